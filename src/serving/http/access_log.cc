#include "serving/http/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace bimride::serving::http {

StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& where) {
  std::unique_ptr<AccessLog> log(new AccessLog());
  if (where.empty() || where == "off") return log;
  if (where == "stderr") {
    log->fd_ = 2;
    return log;
  }
  int fd = ::open(where.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("open access log", where, errno);
  log->fd_ = fd;
  log->owned_ = true;
  return log;
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

void AccessLog::Write(std::string_view remote, std::string_view method, std::string_view target,
                      int status, size_t bytes, int64_t micros) {
  if (fd_ < 0) return;
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm;
  gmtime_r(&t, &tm);
  char stamp[96];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  std::string line;
  line.reserve(128 + target.size());
  line += stamp;
  line += ' ';
  line += remote.empty() ? std::string_view("-") : remote;
  line += " \"";
  line += method;
  line += ' ';
  // Targets are client-controlled: keep the line one line.
  for (char c : target.substr(0, 512)) line += (c == '"' || c < 0x20) ? '?' : c;
  line += "\" " + std::to_string(status) + " " + std::to_string(bytes) + "B " +
          std::to_string(micros) + "us\n";
  ssize_t ignored = ::write(fd_, line.data(), line.size());
  (void)ignored;
}

}  // namespace bimride::serving::http
