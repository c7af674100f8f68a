#include "registry/run_tracker.h"

#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "common/file.h"
#include "common/logging.h"
#include "registry/sha256.h"

namespace bimride::registry {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs argv (no shell), returns its exit code and stdout. -1 when it could not run.
int RunCapture(const std::vector<std::string>& argv, std::string* out) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return -1;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return -1;
  }
  if (pid == 0) {
    ::dup2(pipefd[1], STDOUT_FILENO);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, STDERR_FILENO);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out->append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string NewRunId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string id;
  for (int i = 0; i < 32; ++i) id += kHex[rd() & 0xf];
  return id;
}

std::string CurrentUser() {
  if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') return u;
  if (struct passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name) {
    return pw->pw_name;
  }
  return "unknown";
}

CodeVersion ReadCodeVersion(const std::string& dir) {
  CodeVersion v;
  std::string out;
  int rc = RunCapture({"git", "-C", dir, "rev-parse", "--verify", "HEAD"}, &out);
  if (rc == 127 || rc < 0) {
    v.note = "git not available";
    return v;
  }
  if (rc != 0) {
    v.note = "not a git checkout: " + dir;
    return v;
  }
  v.git_commit = Trim(out);
  std::string status;
  rc = RunCapture({"git", "-C", dir, "status", "--porcelain", "--untracked-files=no"}, &status);
  if (rc != 0) {
    v.note = "git status failed";
  } else {
    v.dirty = !Trim(status).empty();
  }
  return v;
}

StatusOr<DataFingerprint> ComputeDataFingerprint(const std::vector<std::string>& files,
                                                 const std::string& filter) {
  DataFingerprint fp;
  fp.filter = filter;
  std::string combined;
  for (const std::string& path : files) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat", path, errno);
    ASSIGN_OR_RETURN(std::string digest, Sha256File(path));
    fp.files.push_back({path, static_cast<int64_t>(st.st_size), digest});
  }
  // Order-independent: the same files listed in another order give the same fingerprint.
  std::vector<InputFile> sorted = fp.files;
  std::sort(sorted.begin(), sorted.end(),
            [](const InputFile& a, const InputFile& b) { return a.sha256 < b.sha256; });
  for (const InputFile& f : sorted) combined += "file " + f.sha256 + "\n";
  combined += "filter " + filter + "\n";
  fp.fingerprint = Sha256Hex(combined);
  return fp;
}

StatusOr<std::unique_ptr<RunTracker>> RunTracker::Start(
    MetadataStore* store, const std::string& task,
    const std::map<std::string, std::string>& params,
    const std::map<std::string, std::string>& tags, const RunOptions& options) {
  if (task.empty()) return InvalidArgumentError("StartRun: task must not be empty");
  RunRecord run;
  run.run_id = NewRunId();
  run.task = task;
  run.status = RunStatus::kRunning;
  run.start_time_ms = NowMs();
  run.user = options.user.empty() ? CurrentUser() : options.user;
  run.params = params;
  run.tags = tags;
  run.code = ReadCodeVersion(options.code_dir);
  RETURN_IF_ERROR(store->CreateRun(run));
  return std::unique_ptr<RunTracker>(new RunTracker(store, run.run_id, options));
}

RunTracker::~RunTracker() {
  if (!ended_) {
    Status s = store_->EndRun(run_id_, RunStatus::kFailed, 0);
    if (!s.ok()) {
      BIMRIDE_LOG(WARN) << "run " << run_id_ << ": could not end: " << s.ToString();
    }
  }
}

Status RunTracker::LogMetric(const std::string& key, double value, int64_t step) {
  return store_->LogMetrics(run_id_, {{key, value, step, NowMs()}});
}

Status RunTracker::LogMetrics(const std::map<std::string, double>& values, int64_t step) {
  std::vector<MetricPoint> points;
  int64_t now = NowMs();
  for (const auto& [k, v] : values) points.push_back({k, v, step, now});
  return store_->LogMetrics(run_id_, points);
}

Status RunTracker::LogParams(const std::map<std::string, std::string>& params) {
  return store_->SetParams(run_id_, params);
}

Status RunTracker::SetTags(const std::map<std::string, std::string>& tags) {
  return store_->SetTags(run_id_, tags);
}

Status RunTracker::SetDataFingerprint(const std::vector<std::string>& files,
                                      const std::string& filter) {
  ASSIGN_OR_RETURN(DataFingerprint fp, ComputeDataFingerprint(files, filter));
  return store_->SetDataFingerprint(run_id_, fp);
}

StatusOr<RunArtifact> RunTracker::LogArtifact(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat", path, errno);
  ASSIGN_OR_RETURN(std::string digest, Sha256File(path));
  RunArtifact artifact{path, static_cast<int64_t>(st.st_size), digest};
  if (!options_.artifact_dir.empty()) {
    std::string dir = options_.artifact_dir + "/" + run_id_;
    RETURN_IF_ERROR(MakeDirs(dir));
    std::string dst = dir + "/" + std::filesystem::path(path).filename().string();
    ASSIGN_OR_RETURN(std::string contents, ReadFile(path));
    RETURN_IF_ERROR(WriteFileAtomic(dst, contents));
    artifact.path = dst;
  }
  RETURN_IF_ERROR(store_->AddRunArtifact(run_id_, artifact));
  return artifact;
}

Status RunTracker::EndRun(RunStatus status) {
  if (ended_) return FailedPreconditionError("run " + run_id_ + " has already ended");
  RETURN_IF_ERROR(store_->EndRun(run_id_, status, NowMs()));
  ended_ = true;
  return OkStatus();
}

}  // namespace bimride::registry
