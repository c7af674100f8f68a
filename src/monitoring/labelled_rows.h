// Reading back what the prediction log and its labels hold (#13 item 8): "the labelled rows of
// model M between T0 and T1" — each logged prediction of M whose log time is in [T0, T1] joined
// by (request id, row) with its persisted label (prediction_log.h's layout), with the raw request
// fields the client sent, so a task can rebuild its training rows from them with its own code.
//
// A request logged more than once (the answering version and its shadows) is one row: the
// answering route's (any route but "shadow…"), else the first logged. Predictions without a
// label are counted, not returned. Rows come in log-time order (ties: file, then row order).
//
// Errors: InvalidArgument for a bad model name or T1 < T0; NotFound when the model has no log
// folder; a file that cannot be read (corrupt, truncated, a missing column) is an error naming
// the file — never skipped silently. Thread safety: a pure function of the files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::monitoring {

struct LabelledRow {
  std::string request_id;
  int64_t row = 0;       // within its request
  int64_t time_us = 0;   // when the prediction was logged (UTC µs)
  int64_t version = 0;   // the version that answered
  std::string route;
  std::string raw;       // the row's raw request fields (JSON object text)
  float predicted = 0;   // the first output
  double actual = 0;     // the label
};

struct LabelledRows {
  std::vector<LabelledRow> rows;
  int64_t predicted_rows = 0;   // logged predictions (distinct request rows) in [T0, T1]
  int64_t unlabelled_rows = 0;  // of those, without a label
  int64_t prediction_files = 0, label_files = 0;  // files read
};

// The labelled rows of `model` logged in [t0_us, t1_us] under `log_dir`.
StatusOr<LabelledRows> ReadLabelledRows(const std::string& log_dir, const std::string& model,
                                        int64_t t0_us, int64_t t1_us);

}  // namespace bimride::monitoring
