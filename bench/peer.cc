#include "bench/peer.h"

#include <cstdio>

namespace bimride::bench {
namespace {

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string PeerScript(const char* name) {
  return Quote(std::string(BIMRIDE_SOURCE_DIR) + "/tests/peers/" + name);
}

// Parses the numbers of `"key":[…]` in the peer's JSON.
StatusOr<std::vector<double>> NumberList(const std::string& out, const std::string& key) {
  const size_t k = out.find("\"" + key + "\":[");
  if (k == std::string::npos) return InternalError("bad peer output: no " + key);
  const size_t a = out.find('[', k), b = out.find(']', a);
  if (b == std::string::npos) return InternalError("bad peer output: " + key);
  std::vector<double> values;
  const std::string list = out.substr(a + 1, b - a - 1);
  for (size_t pos = 0; pos < list.size();) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    values.push_back(std::stod(list.substr(pos, end - pos)));
    pos = end + 1;
  }
  return values;
}

// Runs `cmd`; parses {"seconds":[...],"cpu_seconds":[...],"rows":N}.
StatusOr<PeerTimes> Run(const std::string& cmd, const std::vector<std::string>& files) {
  std::string line = cmd;
  for (const auto& f : files) line += " " + Quote(f);
  std::FILE* p = ::popen(line.c_str(), "r");
  if (p == nullptr) return InternalError("cannot run " + line);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  if (::pclose(p) != 0) {
    return InternalError(line + " failed (are the peers installed? cd tests/peers && npm ci)");
  }
  PeerTimes t;
  ASSIGN_OR_RETURN(t.wall, NumberList(out, "seconds"));
  ASSIGN_OR_RETURN(t.cpu, NumberList(out, "cpu_seconds"));
  const size_t r = out.find("\"rows\":");
  if (r == std::string::npos) return InternalError("bad peer output: no rows");
  t.rows = std::stoll(out.substr(r + 7));
  return t;
}

}  // namespace

const char* NativePeerName(NativePeer peer) {
  return peer == NativePeer::kDuckDb ? "DuckDB 1.5.6 (C++, 1 thread)"
                                     : "Polars 0.25.2 (Rust, 1 thread)";
}

StatusOr<PeerTimes> RunHyparquet(const std::vector<std::string>& files, int iterations) {
  return Run("node " + PeerScript("parquet_bench.mjs") + " " + std::to_string(iterations), files);
}

StatusOr<PeerTimes> RunNativePeer(NativePeer peer, const std::vector<std::string>& files,
                                  const std::vector<std::string>& columns, int iterations) {
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ",") + c;
  // POLARS_MAX_THREADS=1: one Polars pool thread (the script checks it has exactly one).
  return Run(std::string(peer == NativePeer::kPolars ? "POLARS_MAX_THREADS=1 " : "") + "node " +
                 PeerScript("native_bench.mjs") +
                 (peer == NativePeer::kDuckDb ? " duckdb " : " polars ") +
                 std::to_string(iterations) + " " + Quote(list.empty() ? "*" : list),
             files);
}

}  // namespace bimride::bench
