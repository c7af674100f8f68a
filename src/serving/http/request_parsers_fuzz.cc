// libFuzzer target over the model server's request parsers (TF Serving predict bodies, TF
// Serving regress/classify bodies, KServe v2 infer bodies, /v1/feedback bodies, server config
// files). Built only with -DBIMRIDE_FUZZ=ON under clang; run it
// with scripts/fuzz-serving. Any crash, sanitizer report or exception escaping is a bug: the
// parsers must turn every input into a request or an error Status, and the TF Serving predict
// fast path must agree with the general path on every body it accepts.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/config.h"
#include "monitoring/live_monitor.h"
#include "serving/http/kserve_codec.h"
#include "serving/http/tfs_codec.h"
#include "serving/http/tfs_fast_parse.h"
#include "serving/server_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace bimride::serving;
  auto tfs = http::ParseTfsPredictRequest(body, 1024);
  if (tfs.ok()) {
    const ModelInput& in = tfs->input;
    // Invariants the service relies on.
    if (!in.is_raw() && static_cast<int64_t>(in.values.size()) != in.rows * in.width) __builtin_trap();
    for (const RawColumn& c : in.raw.columns) {
      if (static_cast<int64_t>(c.values.size()) != in.rows) __builtin_trap();
    }
  }
  // The fast path must give exactly the general path's request whenever it accepts a body.
  // When it refuses a body for its row count, the general path must refuse it in the same words.
  bimride::Status refused;
  if (auto fast = http::TryParseTfsPredictFast(body, 1024, &refused)) {
    auto general = http::ParseTfsPredictRequestGeneral(body, 1024);
    if (!general.ok() || !(*fast == *general)) __builtin_trap();
  } else if (!refused.ok()) {
    auto general = http::ParseTfsPredictRequestGeneral(body, 1024);
    if (general.ok() || !(general.status() == refused)) __builtin_trap();
  }
  // :regress / :classify bodies (context merged into the examples).
  auto examples = http::ParseTfsExamplesRequest(body, 1024);
  if (examples.ok()) {
    const ModelInput& in = examples->input;
    if (in.rows < 1 || in.rows > 1024) __builtin_trap();
    if (!in.is_raw() && static_cast<int64_t>(in.values.size()) != in.rows * in.width) __builtin_trap();
    for (const RawColumn& c : in.raw.columns) {
      if (static_cast<int64_t>(c.values.size()) != in.rows) __builtin_trap();
    }
  }
  // The row-limit scans (bodies over 64 KiB meet them first; the fuzzer's are smaller, so they
  // are run directly, with a small limit): a refusal is always the limit's OutOfRange.
  for (const http::RowScan& scan : {http::ScanTfsRows(body, 2), http::ScanKserveRows(body, 2)}) {
    if (!scan.status.ok() && (scan.status.code() != bimride::StatusCode::kOutOfRange ||
                              scan.status.message().find("the limit is 2") == std::string::npos)) {
      __builtin_trap();
    }
    if (scan.values_read < 0) __builtin_trap();
  }
  auto kserve = http::ParseKserveInferRequest(body, 1024);
  if (kserve.ok()) {
    const ModelInput& in = kserve->input;
    if (!in.is_raw() && static_cast<int64_t>(in.values.size()) != in.rows * in.width) __builtin_trap();
  }
  // /v1/feedback: every accepted item names a request, a row >= 0 and a finite actual.
  auto feedback = bimride::monitoring::ParseFeedbackJson(body, "fuzz", 100);
  if (feedback.ok()) {
    if (feedback->empty() || feedback->size() > 100) __builtin_trap();
    for (const auto& f : *feedback) {
      if (f.request_id.empty() || f.row < 0 || !std::isfinite(f.actual)) __builtin_trap();
    }
  }
  auto config = bimride::Config::Parse(std::string(body), "fuzz.json");
  if (config.ok()) {
    ServerConfig sc;
    (void)ApplyConfigFile(*config, &sc);
  }
  return 0;
}
