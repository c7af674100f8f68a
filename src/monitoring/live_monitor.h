// LiveMonitor: joins labels (feedback: a request's actual value, e.g. the trip's real duration)
// to the predictions the prediction log wrote, and keeps live accuracy per model, version and
// window (#13 items 2 and 3).
//
// Windows: each model version's predicted rows are numbered in the order the log wrote them;
// window k holds rows [k·window_rows, (k+1)·window_rows). Counting rows, not wall time, makes a
// window the same whatever the traffic rate or a replay's speed-up.
//
// Joining: a label names a request id (the `x-request-id` the client sent or the server echoed)
// and a row in that request (0 for one-row requests). It joins every prediction logged under
// that id — the answering version's and each shadow's. Labels are normal late or never:
//   late     a label whose window has closed (window_rows more rows were predicted since); it
//            still counts in that window's accuracy;
//   missing  a prediction pushed out of the bounded pending set before a label came;
//   waiting  a label that came before its prediction reached the log: kept (bounded) and joined
//            when it does; `unmatched` when pushed out first;
//   duplicate a second label for a row: the first one stays.
//
// Accuracy is train::ComputeMetrics (RMSE, MAE, bias, RMSLE, MAPE, …) over the window's labelled
// rows in prediction order — the function `bimride eval eta` reports as its overall row
// (tasks/eta/eta_evaluation.cc), so on the same trips in the same order the numbers are equal
// bit for bit. The first output column is the one compared with the label.
//
// Memory is bounded: max_pending_rows predictions wait for labels, max_waiting_labels labels
// wait for predictions, max_windows windows are kept per version (the oldest dropped).
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "monitoring/drift.h"
#include "monitoring/pending_rows.h"
#include "monitoring/prediction_log.h"
#include "train/metrics.h"

namespace bimride::monitoring {

// One label.
struct Feedback {
  std::string request_id;
  int64_t row = 0;
  double actual = 0;
  bool operator==(const Feedback&) const = default;
};

// The feedback JSON body / file: one object {"request_id": "…", "actual": 12.5, "row": 0}
// ("key" is accepted for "request_id": a caller's own key sent as x-request-id; "row" defaults
// to 0), a list of them, or {"feedback": [ … ]}. Errors (InvalidArgument) name `source`, the
// item and what is wrong: bad JSON, an unknown key, a missing or empty id, a non-finite or
// non-numeric actual, a negative row, more than `max_items` items.
StatusOr<std::vector<Feedback>> ParseFeedbackJson(std::string_view text, std::string_view source,
                                                  size_t max_items = 100000);

// A feedback file: JSON as above, or CSV with a header naming request_id (or key), actual and
// optionally row. Errors name the file and line.
StatusOr<std::vector<Feedback>> ReadFeedbackFile(const std::string& path);

struct LiveMonitorOptions {
  int64_t window_rows = 1000;
  int64_t max_pending_rows = 1 << 20;
  int64_t max_waiting_labels = 1 << 16;
  int64_t max_windows = 10000;
  // The label-anchored estimate (see LossEstimator): a window's estimate is corrected by the
  // labels of at most this many windows before it (0: never anchored) …
  int64_t anchor_windows = 2;
  // … shrunk toward no correction as if this many more rows had realised exactly their estimate.
  // Both chosen on replays of 2021-02/03 only (smallest mean relative error, windows of 1000;
  // results/monitoring.md).
  int64_t anchor_prior_rows = 1000;
};

struct FeedbackOutcome {
  int64_t joined = 0;     // joined a logged prediction now
  int64_t late = 0;       // of those, into a closed window
  int64_t waiting = 0;    // prediction not logged (yet): kept for it
  int64_t duplicate = 0;  // the row had a label already
};

// Accuracy before labels (#13 item 4; NannyML's direct loss estimation): a version's model of
// its own squared error, learned from validation rows when it was published. Input: `rows`
// rows of the features named in DriftBaseline::loss_features, then the row's prediction (the
// first output), row-major; output: each row's expected squared error. A window's estimated
// RMSE is the square root of their mean over its rows — known as soon as the rows are served,
// set beside the realised RMSE once the labels come.
//
// Label-anchored: the loss estimator sees inputs only, so it misses concept drift (the same
// inputs, slower trips). Labels come late, but those of earlier windows are known: when window k
// opens (its first row), the monitor takes the labelled rows that have joined windows
// k − anchor_windows … k − 1 so far, with their estimates, and fixes the window's correction
//   c = (n·r + n0) / (n + n0),  r = Σ realised squared error / Σ estimated squared error,
// n those rows, n0 = anchor_prior_rows (c = 1 without any). The window's estimated RMSE is
// sqrt(c · mean estimated squared error); the raw one stays beside it (estimated_rmse_unanchored).
// c never changes after the window opens, so none of the window's own labels enter its estimate.
using LossEstimator =
    std::function<StatusOr<std::vector<float>>(const std::vector<float>& rows_with_prediction,
                                               int64_t rows)>;

// What drift is measured against for one model version: its manifest's feature stats and, when
// published with one, the calibrated thresholds; and its loss estimator when it has one.
struct DriftBaseline {
  std::map<std::string, registry::FeatureStats> stats;
  // The task's categorical features (the manifest's category_stats): a feature here is scored
  // as categories (chi-square, Jensen–Shannon distance), not binned as a number, whatever
  // `stats` holds for it. Empty for manifests made before them: every feature is numeric.
  std::map<std::string, registry::CategoryStats> categories;
  std::optional<DriftCalibration> calibration;
  LossEstimator loss_estimator;             // empty: no estimate
  std::vector<std::string> loss_features;   // its input features, in order (then the prediction)
};
// Loads a version's baseline (the Server reads the version's manifest); called once per version
// on the log's writer thread. An error leaves the version without drift (logged once).
using DriftBaselineLoader =
    std::function<StatusOr<DriftBaseline>(const std::string& model, int64_t version)>;

// One feature's drift in one window.
struct FeatureDrift {
  std::string feature;
  bool categorical = false;
  DriftScores scores;             // a numeric feature's
  CategoryDriftScores category;   // a categorical feature's
  std::string error;              // why a categorical one has no scores (no values), or empty
  std::string above;  // the scores above their thresholds ("psi,ks", "chi2"), empty when none
};

struct WindowAccuracy {
  std::string model;
  int64_t version = 0;
  int64_t window = 0;       // index; rows [window·window_rows, …)
  bool closed = false;      // window_rows rows predicted
  int64_t predicted_rows = 0;
  int64_t labelled_rows = 0;
  int64_t late_labels = 0;
  int64_t first_time_us = 0, last_time_us = 0;  // of the window's predictions
  train::Metrics metrics;   // over labelled rows, in prediction order
  // Estimated before labels (the version's loss estimator over every predicted row): NaN and 0
  // rows without one.
  double estimated_rmse = std::numeric_limits<double>::quiet_NaN();  // label-anchored
  double estimated_rmse_unanchored = std::numeric_limits<double>::quiet_NaN();  // the estimator's
  int64_t estimated_rows = 0;
  // The anchor, fixed when the window opened: estimated_rmse / estimated_rmse_unanchored
  // (= sqrt(c)), and the labelled rows and windows before it that gave it (0: no correction).
  double estimate_correction = 1;
  int64_t anchor_rows = 0;
  int64_t anchor_windows = 0;
  // Drift of the window's features against the version's baseline (empty without one). Alarms
  // only for closed windows whose size is the calibration's.
  std::vector<FeatureDrift> drift;
  bool drift_calibrated = false;
  bool drift_alarm = false;
};

struct MonitorCounters {
  int64_t predicted_rows = 0;
  int64_t labels = 0;  // received
  int64_t joined = 0;  // label × prediction pairs (a shadowed request joins more than one)
  int64_t late = 0;
  int64_t duplicate = 0;
  int64_t missing = 0;    // predictions that left the pending set unlabelled
  int64_t unmatched = 0;  // labels that left the waiting set unjoined
  int64_t pending_rows = 0;
  int64_t waiting_labels = 0;
};

class LiveMonitor : public PredictionObserver {
 public:
  // InvalidArgument for non-positive options.
  // `baselines` may be empty (no drift).
  static StatusOr<std::unique_ptr<LiveMonitor>> Create(LiveMonitorOptions options,
                                                       DriftBaselineLoader baselines = nullptr);

  void Observe(const PredictionBatch& batch) override;
  // The same as Observe on each batch in order; the loss estimator runs once per run of
  // batches of one version (one model call for all their rows, not one per request).
  void ObserveAll(const std::vector<PredictionBatch>& batches) override;
  FeedbackOutcome AddFeedback(const std::vector<Feedback>& feedback);

  // Every label that joins a logged prediction (one record per joined prediction: a shadowed
  // request gives one per version) and every label pushed out of the waiting set unjoined
  // (model empty) is handed to `sink`, outside the monitor's lock — the prediction log's
  // LogLabels, which persists them beside the predictions. Set before traffic; null: none.
  using LabelSink = std::function<void(std::vector<LabelRecord>)>;
  void SetLabelSink(LabelSink sink);

  // Every kept window (model, version, window order); `model` empty: every model.
  std::vector<WindowAccuracy> Windows(const std::string& model = "") const;
  // Per model version, its last closed window (its first window while none is closed).
  std::vector<WindowAccuracy> LatestWindows() const;
  // All kept labelled rows of one version, in prediction order (NotFound when never seen).
  StatusOr<WindowAccuracy> Overall(const std::string& model, int64_t version) const;
  MonitorCounters counters() const;
  // The calibrated drift thresholds the version's windows are compared with; nullopt when the
  // version has not been seen, has no baseline, or was published without a calibration.
  std::optional<DriftCalibration> Calibration(const std::string& model, int64_t version) const;
  const LiveMonitorOptions& options() const { return options_; }

 private:
  LiveMonitor(LiveMonitorOptions options, DriftBaselineLoader baselines)
      : options_(options), baselines_(std::move(baselines)) {}
  struct Window {
    int64_t predicted_rows = 0;
    int64_t late_labels = 0;
    int64_t first_time_us = 0, last_time_us = 0;
    std::vector<std::pair<int64_t, std::pair<float, float>>> labelled;  // seq → (pred, actual)
    std::vector<std::vector<int64_t>> bins;  // per baseline feature (drift.h's bin layout)
    double estimated_sq_sum = 0;             // the loss estimator's, over estimated_rows
    int64_t estimated_rows = 0;
    // Labelled rows with an estimate (what later windows are anchored on): Σ (pred − actual)²,
    // Σ estimate, count.
    double anchor_real_sq_sum = 0, anchor_est_sq_sum = 0;
    int64_t anchor_rows = 0;
    // This window's own anchor, fixed at its first row (LossEstimator above).
    double correction = 1;  // of the mean squared error
    int64_t anchored_on_rows = 0, anchored_on_windows = 0;
  };
  struct VersionState {
    int64_t next_seq = 0;
    std::map<int64_t, Window> windows;
    bool baseline_tried = false;
    std::optional<DriftBaseline> baseline;
    std::vector<std::string> drift_features;            // baseline features present in the log
    std::vector<const registry::FeatureStats*> drift_stats;  // null for a categorical one
    std::vector<const registry::CategoryStats*> drift_categories;  // null for a numeric one
    std::vector<std::shared_ptr<const CategoryCells>> drift_cells;
    std::vector<int> drift_columns;  // their feature column in the logged batches; −(k + 1): output k
    ColumnNames column_names;                           // the batches' names those refer to
    std::vector<int> loss_columns;  // the loss estimator's inputs in the logged batches
    bool loss_ready = false;        // every input found
  };
  struct Pending {  // one logged row waiting for its label
    std::string model;
    int64_t version = 0;
    int64_t seq = 0;
    float predicted = 0;
    bool labelled = false;
    float actual = 0;
    int64_t time_us = 0;  // the prediction's
    std::string route;
    float estimated_sq = std::numeric_limits<float>::quiet_NaN();  // the loss estimator's
  };
  // A row key's logged predictions: the answering version's, then any shadow's (the first
  // inline: most rows have one).
  class PendingEntries {
   public:
    size_t size() const { return n_; }
    Pending& operator[](size_t i) { return i == 0 ? first_ : rest_[i - 1]; }
    Pending& back() { return (*this)[n_ - 1]; }
    void push_back(Pending p) {
      if (n_++ == 0) {
        first_ = std::move(p);
      } else {
        rest_.push_back(std::move(p));
      }
    }

   private:
    size_t n_ = 0;
    Pending first_;
    std::vector<Pending> rest_;
  };
  using VersionKey = std::pair<std::string, int64_t>;
  // Joins `actual` to `p` (its window, late or not; nothing when the window is gone), and
  // queues its record for the label sink.
  void Join(Pending& p, float actual, std::string_view request_id, int64_t row);
  FeedbackOutcome AddFeedbackLocked(const std::vector<Feedback>& feedback);
  void DeliverLabels();  // hands the queued records to the sink; called without mu_
  static std::string RowKey(std::string_view id, int64_t row);
  WindowAccuracy Describe(const VersionKey& key, int64_t index, const Window& w,
                          const VersionState& vs) const;
  void PrepareDrift(VersionState& vs, const PredictionBatch& batch);
  // Batches of one model version with the same column names, in log order.
  void ObserveRun(const PredictionBatch* batches, size_t n);
  // One batch's rows (mu_ held); `estimated`: its rows' loss estimates, or null.
  void ObserveRows(VersionState& vs, const PredictionBatch& batch, const float* estimated);
  // Fixes window `index`'s anchor from the labelled rows of the windows before it (mu_ held).
  void AnchorWindow(const VersionState& vs, int64_t index, Window& w) const;

  const LiveMonitorOptions options_;
  const DriftBaselineLoader baselines_;
  mutable std::mutex mu_;
  std::map<VersionKey, VersionState> versions_;
  // (request id, row) → its logged predictions, oldest row first.
  PendingRows<PendingEntries> pending_;
  // Labels before their prediction, and their arrival order (oldest pushed out first). A key
  // leaves waiting_order_ only when it reaches the front, so a key can be there twice (a label
  // joined, then another for the same row waits): `seq` tells the entry that is waiting now.
  struct WaitingLabel {
    float actual = 0;
    uint64_t seq = 0;
  };
  std::unordered_map<std::string, WaitingLabel> waiting_;
  std::deque<std::pair<std::string, uint64_t>> waiting_order_;
  uint64_t waiting_seq_ = 0;
  MonitorCounters counters_;
  std::mutex sink_mu_;  // orders deliveries (taken before mu_, never inside it)
  LabelSink sink_;
  std::vector<LabelRecord> labels_out_;  // under mu_: joined since the last delivery
};

}  // namespace bimride::monitoring
