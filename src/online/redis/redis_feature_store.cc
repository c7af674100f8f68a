#include "online/redis/redis_feature_store.h"

#include <hiredis/hiredis.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/redact.h"

namespace bimride::online {
namespace {

using Clock = std::chrono::steady_clock;

struct RedisLocation {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;
  int timeout_ms = 100;
  int retry_ms = 1000;
  std::string masked;  // the URL with its password as ***
};

Status BadUrl(std::string_view masked, const std::string& what) {
  return InvalidArgumentError("online store '" + std::string(masked) + "': " + what +
                              " (expected redis://[:password@]host[:port][/db]"
                              "[?timeout_ms=N&retry_ms=N])");
}

bool ParseInt(std::string_view text, int lo, int hi, int* out) {
  if (text.empty() || text.size() > 9) return false;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

StatusOr<RedisLocation> ParseRedisUrl(std::string_view url) {
  RedisLocation loc;
  constexpr std::string_view kScheme = "redis://";
  std::string_view rest = url.substr(kScheme.size());
  // Mask the password before any error can show the URL.
  loc.masked = RedactUrl(url);
  const size_t at = rest.substr(0, rest.find('/')).rfind('@');
  std::string_view userinfo = at == std::string_view::npos ? "" : rest.substr(0, at);
  if (!userinfo.empty()) {
    const size_t colon = userinfo.find(':');
    std::string_view user = colon == std::string_view::npos ? userinfo : userinfo.substr(0, colon);
    if (colon != std::string_view::npos) loc.password = std::string(userinfo.substr(colon + 1));
    if (!user.empty()) return BadUrl(loc.masked, "user names (Redis ACL users) are not supported");
  }
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    if (!ParseInt(rest.substr(colon + 1), 1, 65535, &loc.port)) {
      return BadUrl(loc.masked, "port '" + std::string(rest.substr(colon + 1)) +
                                    "' is not a number in 1..65535");
    }
  }
  if (host.empty()) return BadUrl(loc.masked, "no host");
  loc.host = std::string(host);
  if (!path.empty() && !ParseInt(path, 0, 1 << 20, &loc.db)) {
    return BadUrl(loc.masked, "database '" + std::string(path) + "' is not a number");
  }
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    int* target = name == "timeout_ms" ? &loc.timeout_ms
                  : name == "retry_ms" ? &loc.retry_ms
                                       : nullptr;
    if (target == nullptr) {
      return BadUrl(loc.masked, "unknown option '" + std::string(name) + "'");
    }
    if (!ParseInt(value, 1, 600000, target)) {
      return BadUrl(loc.masked, std::string(name) + " '" + std::string(value) +
                                    "' is not a number of milliseconds in 1..600000");
    }
  }
  return loc;
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Connection = std::unique_ptr<redisContext, ContextDeleter>;

std::string FormatDouble(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

std::string EntryKey(std::string_view key, int64_t bucket) {
  std::string k(key);
  k += '#';
  k += std::to_string(bucket);
  return k;
}

class RedisFeatureStore final : public FeatureStore {
 public:
  RedisFeatureStore(RedisLocation loc, FeatureStoreOptions options)
      : loc_(std::move(loc)), options_(options) {}

  Status Add(std::string_view key, int64_t bucket, double delta) override {
    Increment i{std::string(key), bucket, delta, 0};
    return AddMany(std::span<const Increment>(&i, 1));
  }

  Status Set(std::string_view key, int64_t bucket, double value) override {
    if (key.empty()) return InvalidArgumentError("online store: empty key");
    ASSIGN_OR_RETURN(std::vector<Reply> replies,
                     Run({{"SET", EntryKey(key, bucket), FormatDouble(value), "EX",
                           std::to_string(options_.ttl_seconds)}}));
    return CheckNotError(*replies[0], key);
  }

  Status AddMany(std::span<const Increment> increments) override {
    std::vector<std::vector<std::string>> commands;
    commands.reserve(increments.size() * 2);
    for (const Increment& i : increments) {
      if (i.key.empty()) return InvalidArgumentError("online store: empty key");
      std::string k = EntryKey(i.key, i.bucket);
      commands.push_back({"INCRBYFLOAT", k, FormatDouble(i.delta)});
      commands.push_back(
          {"EXPIRE", std::move(k),
           std::to_string(i.ttl_seconds > 0 ? i.ttl_seconds : options_.ttl_seconds)});
    }
    if (commands.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(std::vector<Reply> replies, Run(commands));
    for (size_t c = 0; c < replies.size(); ++c) {
      RETURN_IF_ERROR(CheckNotError(*replies[c], increments[c / 2].key));
    }
    return Status::Ok();
  }

  StatusOr<std::vector<std::optional<double>>> Range(std::string_view key, int64_t first,
                                                     int count) override {
    RangeQuery q{std::string(key), first, count};
    ASSIGN_OR_RETURN(auto all, RangeMany(std::span<const RangeQuery>(&q, 1)));
    return std::move(all[0]);
  }

  StatusOr<std::vector<std::vector<std::optional<double>>>> RangeMany(
      std::span<const RangeQuery> queries) override {
    std::vector<std::vector<std::string>> commands;
    for (const RangeQuery& q : queries) {
      if (q.count < 0) return InvalidArgumentError("online store: negative bucket count");
      if (q.count == 0) continue;
      std::vector<std::string> mget{"MGET"};
      mget.reserve(static_cast<size_t>(q.count) + 1);
      for (int b = 0; b < q.count; ++b) mget.push_back(EntryKey(q.key, q.first + b));
      commands.push_back(std::move(mget));
    }
    std::vector<Reply> replies;
    if (!commands.empty()) {
      ASSIGN_OR_RETURN(replies, Run(commands));
    }
    std::vector<std::vector<std::optional<double>>> out;
    out.reserve(queries.size());
    size_t next = 0;
    for (const RangeQuery& q : queries) {
      std::vector<std::optional<double>>& values = out.emplace_back(static_cast<size_t>(q.count));
      if (q.count == 0) continue;
      const redisReply& r = *replies[next++];
      RETURN_IF_ERROR(CheckNotError(r, q.key));
      if (r.type != REDIS_REPLY_ARRAY || r.elements != static_cast<size_t>(q.count)) {
        return InternalError(loc_.masked + ": MGET " + q.key + ": unexpected reply");
      }
      for (int b = 0; b < q.count; ++b) {
        const redisReply* e = r.element[b];
        if (e->type == REDIS_REPLY_NIL) continue;
        if (e->type != REDIS_REPLY_STRING) {
          return DataLossError(loc_.masked + ": " + EntryKey(q.key, q.first + b) +
                               ": not a number");
        }
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(e->str, &end);
        if (end != e->str + e->len || errno != 0) {
          return DataLossError(loc_.masked + ": " + EntryKey(q.key, q.first + b) + ": '" +
                               std::string(e->str, e->len) + "' is not a number");
        }
        values[static_cast<size_t>(b)] = v;
      }
    }
    return out;
  }

  std::string Describe() const override { return loc_.masked; }

  FeatureStoreHealth Health() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return {.up = up_, .errors = errors_, .reconnects = reconnects_};
  }

  ~RedisFeatureStore() override = default;

 private:
  Status CheckNotError(const redisReply& r, std::string_view key) const {
    if (r.type != REDIS_REPLY_ERROR) return Status::Ok();
    std::string msg(r.str, r.len);
    const std::string what = loc_.masked + ": key '" + std::string(key) + "': " + msg;
    if (msg.rfind("WRONGTYPE", 0) == 0 || msg.rfind("ERR value is not a valid float", 0) == 0) {
      return DataLossError(what);
    }
    if (msg.rfind("LOADING", 0) == 0 || msg.rfind("READONLY", 0) == 0 ||
        msg.rfind("MASTERDOWN", 0) == 0 || msg.rfind("BUSY", 0) == 0) {
      return UnavailableError(what);
    }
    return InternalError(what);
  }

  // Sends every command in one pipeline and reads every reply.
  StatusOr<std::vector<Reply>> Run(const std::vector<std::vector<std::string>>& commands) {
    ASSIGN_OR_RETURN(Connection conn, Acquire());
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::vector<std::string>& cmd : commands) {
      argv.clear();
      lens.clear();
      for (const std::string& a : cmd) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      if (redisAppendCommandArgv(conn.get(), static_cast<int>(argv.size()), argv.data(),
                                 lens.data()) != REDIS_OK) {
        return Failed(conn.get(), "send");
      }
    }
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(conn.get(), &raw) != REDIS_OK || raw == nullptr) {
        return Failed(conn.get(), "read");
      }
      replies.emplace_back(static_cast<redisReply*>(raw));
    }
    Release(std::move(conn));
    return replies;
  }

  // A connection from the pool, or a new one; kUnavailable at once while backing off.
  StatusOr<Connection> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        Connection c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      if (!up_ && Clock::now() < retry_at_) {
        ++errors_;
        return UnavailableError(
            loc_.masked + ": down since " + std::to_string(DownSeconds()) + " s (" + last_error_ +
            "); next try in " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - Clock::now())
                    .count()) +
            " ms");
      }
    }
    const timeval tv{loc_.timeout_ms / 1000, (loc_.timeout_ms % 1000) * 1000};
    Connection c(redisConnectWithTimeout(loc_.host.c_str(), loc_.port, tv));
    if (c == nullptr) return MarkDown("connect: out of memory");
    if (c->err != 0) return MarkDown(std::string("connect: ") + c->errstr);
    if (redisSetTimeout(c.get(), tv) != REDIS_OK) return MarkDown("set timeout");
    auto command = [&](std::vector<std::string> args, const char* what) -> Status {
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const std::string& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      Reply r(static_cast<redisReply*>(
          redisCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(), lens.data())));
      if (r == nullptr) return MarkDown(std::string(what) + ": " + c->errstr);
      if (r->type == REDIS_REPLY_ERROR) {
        return PermissionDeniedError(loc_.masked + ": " + what + ": " +
                                     std::string(r->str, r->len));
      }
      return Status::Ok();
    };
    if (!loc_.password.empty()) RETURN_IF_ERROR(command({"AUTH", loc_.password}, "AUTH"));
    if (loc_.db != 0) RETURN_IF_ERROR(command({"SELECT", std::to_string(loc_.db)}, "SELECT"));
    MarkUp();
    return c;
  }

  void Release(Connection c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(c));
  }

  // The connection broke mid-command: it is dropped (not returned to the pool), and so is every
  // idle one, which shares its fate.
  Status Failed(redisContext* c, const char* what) {
    return MarkDown(std::string(what) + ": " + (c->err != 0 ? c->errstr : "no reply"));
  }

  Status MarkDown(const std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    ++errors_;
    idle_.clear();
    retry_at_ = Clock::now() + std::chrono::milliseconds(loc_.retry_ms);
    last_error_ = why;
    if (up_) {
      up_ = false;
      down_since_ = Clock::now();
      BIMRIDE_LOG(ERROR) << "ALERT online store " << loc_.masked << " is down (" << why
                         << "): readers fall back (bimride_online_store_up 0); retrying every "
                         << loc_.retry_ms << " ms";
    }
    return UnavailableError(loc_.masked + ": " + why);
  }

  void MarkUp() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!up_) {
      up_ = true;
      ++reconnects_;
      BIMRIDE_LOG(WARN) << "online store " << loc_.masked << " is back after " << DownSeconds()
                        << " s down";
    }
  }

  int64_t DownSeconds() const {  // mu_ held
    return std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - down_since_).count();
  }

  static constexpr size_t kMaxIdle = 16;
  const RedisLocation loc_;
  const FeatureStoreOptions options_;
  mutable std::mutex mu_;
  std::vector<Connection> idle_;
  bool up_ = true;
  Clock::time_point down_since_;
  Clock::time_point retry_at_;
  std::string last_error_;
  int64_t errors_ = 0;
  int64_t reconnects_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<FeatureStore>> OpenRedisFeatureStore(std::string_view url,
                                                              const FeatureStoreOptions& options) {
  if (url.substr(0, 8) != "redis://") {
    return InvalidArgumentError("online store: not a redis:// URL");
  }
  ASSIGN_OR_RETURN(RedisLocation loc, ParseRedisUrl(url));
  auto store = std::make_unique<RedisFeatureStore>(std::move(loc), options);
  // Opening does not need Redis up: a replica starts (and answers with its fallbacks) while
  // Redis is down, and the first call that reaches it logs the alert. A wrong password or
  // database, though, is a configuration error worth failing the start for.
  StatusOr<std::vector<std::optional<double>>> probe = store->Range("bimride:probe", 0, 1);
  if (!probe.ok() && probe.status().code() != StatusCode::kUnavailable) return probe.status();
  return std::unique_ptr<FeatureStore>(std::move(store));
}

}  // namespace bimride::online
