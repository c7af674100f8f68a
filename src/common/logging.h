// Minimal leveled logging to stderr: BIMRIDE_LOG(INFO) << "loaded " << n << " rows";
// Thread safety: each message is written with one write(2) call, so lines never interleave.
// Level from SetLogLevel() or the BIMRIDE_LOG_LEVEL environment variable (debug|info|warn|error).
#pragma once

#include <sstream>
#include <string_view>

namespace bimride {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug|info|warn|error|off"; returns false when unknown.
bool ParseLogLevel(std::string_view text, LogLevel* level);

class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace bimride

#define BIMRIDE_LOG_LEVEL_DEBUG ::bimride::LogLevel::kDebug
#define BIMRIDE_LOG_LEVEL_INFO ::bimride::LogLevel::kInfo
#define BIMRIDE_LOG_LEVEL_WARN ::bimride::LogLevel::kWarn
#define BIMRIDE_LOG_LEVEL_ERROR ::bimride::LogLevel::kError

#define BIMRIDE_LOG(severity)                                                   \
  if (BIMRIDE_LOG_LEVEL_##severity < ::bimride::GetLogLevel()) {                \
  } else                                                                        \
    ::bimride::LogMessage(BIMRIDE_LOG_LEVEL_##severity, __FILE__, __LINE__).stream()
