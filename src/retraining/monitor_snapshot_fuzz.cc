// libFuzzer target over what `bimride retrain` reads from a server's GET /v1/monitor
// (retrainer.h's ParseMonitorSnapshot), and the alarm decision on whatever it accepts. Built only
// with -DBIMRIDE_FUZZ=ON under clang; scripts/fuzz runs it over the monitor report's corpus.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "retraining/retrainer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view answer(reinterpret_cast<const char*>(data), size);
  auto snapshot = bimride::retraining::ParseMonitorSnapshot(answer, "eta");
  if (!snapshot.ok()) return 0;
  bimride::retraining::RetrainPolicy policy;
  policy.hold_windows = 2;
  policy.hold_span = 3;
  policy.max_rmse = 5;
  for (const auto& w : snapshot->windows) {
    const auto d = bimride::retraining::DecideRetrain(*snapshot, w.version, 4.0, policy);
    if (d.alarm && (d.span_windows < 1 || d.first_alarm_window > d.last_alarm_window)) {
      __builtin_trap();
    }
  }
  return 0;
}
