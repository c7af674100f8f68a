// ETA's side of retraining on alarm (#13 item 8; the loop is retraining/retrainer.h): the
// labelled rows read back from the prediction log become an ETA dataset with the server's own
// request parser, and a model is trained on them with TrainEtaModel — the code `bimride train
// eta` runs — tracked as an "eta" run and published.
// Thread safety: as TrainEtaModel (one training at a time per process).
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "data/zone_index.h"
#include "features/weather.h"
#include "monitoring/labelled_rows.h"
#include "registry/registry.h"
#include "tasks/eta/eta_dataset.h"
#include "tasks/eta/eta_training.h"

namespace bimride::tasks::eta {

// Each row's raw request fields (pickup_zone, dropoff_zone, pickup_datetime, trip_distance,
// coordinates — what `bimride replay` and riders' apps send) parsed by features::
// ParseEtaRequests as the server parses them; pickup = the request's time, dropoff = pickup +
// the label (minutes). Then MakeEtaDataset's filter. A row whose fields do not parse (a
// feature-vector request has no raw fields) is counted in report.loader_quarantined, never
// dropped silently; InvalidArgument when no row is left.
StatusOr<EtaDataset> EtaDatasetFromLabelledRows(const monitoring::LabelledRows& rows,
                                                features::EtaFeatureSet set,
                                                const EtaDatasetOptions& options);

struct EtaRetrainOptions {
  EtaTrainConfig config;        // config.drift_window_rows: the server's monitor window
  EtaDatasetOptions dataset;    // the training filter
  double valid_fraction = 0.2;  // the latest rows (log order) validate: early stopping, metrics
  // After the latest rows chose the number of rounds (early stopping), train again on every
  // row — the latest included — for that many rounds, as a model trained offline on a whole
  // month uses all of it. The published version is the refit; its validation metrics and loss
  // estimator are the selection fit's (held out: the refit has seen the validation rows).
  // Trainers without a round count (torch, baseline) are not refit.
  bool refit = true;
  std::string out_dir;          // the model folder written, then published
  const data::ZoneIndex* zones = nullptr;
  const features::WeatherTable* weather = nullptr;
  std::map<std::string, std::string> tags;  // added to the training run (e.g. the retrain run)
  std::string data_description;             // the run's data filter text (where the rows came from)
};

struct EtaRetrainResult {
  registry::Manifest published;
  std::string run_id;
  int64_t train_rows = 0, valid_rows = 0;
  int64_t refit_rows = 0;  // rows the published refit was trained on (0: no refit)
  int refit_rounds = 0;
  std::string summary;  // the dataset report and TrainEtaModel's summary and comparison table
};

// Trains on `rows` (split in log order: the first 1 − valid_fraction train, the rest validate;
// then, with options.refit, on all of them for the rounds the validation chose) and publishes
// to `registry`. Errors name the step.
StatusOr<EtaRetrainResult> RetrainEtaOnLabelledRows(registry::Registry& registry,
                                                     const monitoring::LabelledRows& rows,
                                                     const EtaRetrainOptions& options);

}  // namespace bimride::tasks::eta
