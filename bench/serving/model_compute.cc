// Model compute time alone, in-process: the serving benchmark's "overhead from the socket" is
// wrk's p50 latency at one connection minus this p50 (BENCHMARKS.md, "Model server").
// Loads the artifact with the backend and the options `bimride serve` uses (one intra-op
// thread, optimized), warms it up, then times Model::Predict — the call the server's compute
// histogram times — on the first row of a TF Serving `instances` body, one call at a time.
//
//   build/bench/serving_model_compute --backend torchscript --artifact DIR/model.pt --body body.json
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "common/file.h"
#include "common/flags.h"
#include "models/model.h"

using namespace bimride;

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "serving_model_compute: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  FlagParser flags("serving_model_compute",
                   "Model::Predict time per call on one request body's row, in-process.");
  std::string backend, artifact, body_path;
  int64_t calls = 20000;
  flags.AddString("backend", &backend, "model backend (torchscript, native_mlp, …)", true);
  flags.AddString("artifact", &artifact, "the model file or folder the backend loads", true);
  flags.AddString("body", &body_path, "TF Serving predict body: {\"instances\": [[numbers…]]}",
                  true);
  flags.AddInt("calls", &calls, "timed calls (after as many warm-up calls)");
  Status st = flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!st.ok() || flags.help_requested()) {
    std::fprintf(stderr, "%s\n%s", st.ToString().c_str(), flags.Help().c_str());
    return st.ok() ? 0 : 2;
  }
  if (calls < 1) return Fail("--calls must be at least 1");

  auto text = ReadFile(body_path);
  if (!text.ok()) return Fail(text.status().ToString());
  // The first row of "instances": the numbers between the first "[[" after it and "]".
  std::vector<float> row;
  const std::string& body = *text;
  size_t at = body.find("\"instances\"");
  at = at == std::string::npos ? at : body.find('[', at);
  at = at == std::string::npos ? at : body.find('[', at + 1);
  if (at == std::string::npos) return Fail(body_path + ": expected {\"instances\": [[numbers…]]}");
  for (const char* p = body.c_str() + at + 1; *p != ']';) {
    char* end = nullptr;
    row.push_back(std::strtof(p, &end));
    if (end == p) return Fail(body_path + ": not a number at byte " + std::to_string(p - body.c_str()));
    p = end;
    while (*p == ' ' || *p == ',') ++p;
  }
  models::LoadOptions options;  // as the server loads: 1 intra-op thread, optimized
  auto model = models::LoadModel(backend, artifact, options);
  if (!model.ok()) return Fail(model.status().ToString());
  if (static_cast<int>(row.size()) != (*model)->num_features()) {
    return Fail(body_path + ": the row has " + std::to_string(row.size()) +
                " numbers; the model takes " + std::to_string((*model)->num_features()));
  }
  std::vector<float> out(static_cast<size_t>((*model)->num_outputs()));
  std::vector<double> us;
  us.reserve(static_cast<size_t>(calls));
  for (int64_t i = 0; i < 2 * calls; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    st = (*model)->Predict(row.data(), 1, out.data());
    const auto t1 = std::chrono::steady_clock::now();
    if (!st.ok()) return Fail(st.ToString());
    if (i >= calls) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  auto pct = [&](double q) { return us[static_cast<size_t>(q * static_cast<double>(us.size() - 1))]; };
  std::printf("compute (%s, in-process, %lld calls): p50 %.1f us, p99 %.1f us\n", backend.c_str(),
              static_cast<long long>(calls), pct(0.5), pct(0.99));
  return 0;
}
