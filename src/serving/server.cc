#include "serving/server.h"

#include <cstdlib>

#include "common/logging.h"
#include "models/model.h"
#include "registry/manifest.h"
#include "registry/model_repository.h"

namespace bimride::serving {

Server::Server(ServerConfig config, std::unique_ptr<online::FeatureStore> online_store,
               std::unique_ptr<monitoring::LiveMonitor> monitor,
               std::unique_ptr<monitoring::PredictionLog> prediction_log)
    : config_(std::move(config)),
      online_store_(std::move(online_store)),
      monitor_(std::move(monitor)),
      prediction_log_(std::move(prediction_log)),
      manager_(std::make_unique<ServableManager>(config_, &metrics_, online_store_.get())),
      shadows_([this] {
        ShadowQueueOptions o;
        o.prediction_log = prediction_log_.get();
        return o;
      }()),
      service_(std::make_unique<Service>(manager_.get(), &metrics_, &shadows_,
                                         config_.max_batch_rows, prediction_log_.get(),
                                         monitor_.get(), online_store_.get())),
      rollouts_(std::make_unique<RolloutController>(service_.get(), manager_.get(), &metrics_,
                                                    monitor_.get())) {
  service_->AttachRollouts(rollouts_.get());
}

StatusOr<std::unique_ptr<Server>> Server::Create(ServerConfig config) {
  if (config.model_repo.empty()) return InvalidArgumentError("no model repository given");
  if (config.admin_token.empty()) {
    if (const char* env = std::getenv("BIMRIDE_ADMIN_TOKEN")) config.admin_token = env;
  }
  if (!IsLoopbackHost(config.host) && config.admin_token.empty()) {
    BIMRIDE_LOG(WARN) << "listening beyond loopback on " << config.host
                      << " with no admin token: repository control (/v2/repository) is refused "
                         "to every caller; set BIMRIDE_ADMIN_TOKEN or server.admin_token to "
                         "enable it";
  }
  StatusOr<std::unique_ptr<online::FeatureStore>> online =
      online::OpenFeatureStore(config.online_store, {.ttl_seconds = config.online_ttl_seconds});
  if (!online.ok()) return online.status();
  std::unique_ptr<monitoring::PredictionLog> log;
  std::unique_ptr<monitoring::LiveMonitor> monitor;
  if (!config.prediction_log.dir.empty()) {
    // Drift baselines: each version's manifest (feature stats, calibrated thresholds).
    monitoring::DriftBaselineLoader baselines =
        [repo = config.model_repo](const std::string& model,
                                   int64_t version) -> StatusOr<monitoring::DriftBaseline> {
      const std::string dir = registry::ModelRepository(repo).VersionDir(model, version);
      ASSIGN_OR_RETURN(registry::Manifest m,
                       registry::ReadManifest(dir + "/" + registry::kManifestFileName));
      monitoring::DriftBaseline b;
      b.stats = std::move(m.feature_stats);
      b.categories = std::move(m.category_stats);  // none in manifests before categorical drift
      if (auto c = m.properties.find(monitoring::kDriftCalibrationProperty);
          c != m.properties.end()) {
        ASSIGN_OR_RETURN(b.calibration, monitoring::DriftCalibrationFromJson(c->second, dir));
        RETURN_IF_ERROR(monitoring::CheckDriftCalibration(*b.calibration, b.stats, b.categories, dir));
      }
      if (auto l = m.properties.find(monitoring::kLossEstimatorProperty);
          l != m.properties.end()) {
        ASSIGN_OR_RETURN(monitoring::LossEstimatorRef ref,
                         monitoring::LossEstimatorRefFromJson(l->second, dir));
        // An XGBoost estimator runs under native_trees (the same trees and outputs, tested in
        // xgboost_test; faster on the log writer's runs of rows, BENCHMARKS.md; and there in
        // builds without XGBoost).
        const std::string backend = ref.backend == "xgboost" ? "native_trees" : ref.backend;
        ASSIGN_OR_RETURN(std::unique_ptr<models::Model> loaded,
                         models::LoadModel(backend, dir + "/" + ref.artifact));
        b.loss_features = registry::FeatureNames(m);
        if (loaded->num_features() != static_cast<int>(b.loss_features.size()) + 1) {
          return InvalidArgumentError(dir + ": loss estimator takes " +
                                      std::to_string(loaded->num_features()) + " inputs, want " +
                                      std::to_string(b.loss_features.size() + 1) +
                                      " (the features and the prediction)");
        }
        std::shared_ptr<const models::Model> model(std::move(loaded));
        b.loss_estimator = [model](const std::vector<float>& x,
                                   int64_t rows) -> StatusOr<std::vector<float>> {
          std::vector<float> out(static_cast<size_t>(rows) * model->num_outputs());
          RETURN_IF_ERROR(model->Predict(x.data(), rows, out.data()));
          return out;
        };
      }
      return b;
    };
    StatusOr<std::unique_ptr<monitoring::LiveMonitor>> made =
        monitoring::LiveMonitor::Create(config.monitor, std::move(baselines));
    if (!made.ok()) return made.status();
    monitor = std::move(made).value();
    StatusOr<std::unique_ptr<monitoring::PredictionLog>> opened =
        monitoring::PredictionLog::Open(config.prediction_log);
    if (!opened.ok()) return opened.status().WithContext("prediction log");
    log = std::move(opened).value();
    log->SetObserver(monitor.get());
    // Labels are persisted beside the predictions (#13 item 8 reads them back for retraining).
    monitor->SetLabelSink([l = log.get()](std::vector<monitoring::LabelRecord> labels) {
      l->LogLabels(std::move(labels));
    });
    BIMRIDE_LOG(INFO) << "prediction log: " << config.prediction_log.dir << " (sample rate "
                      << config.prediction_log.sample_rate << ")";
  }
  std::unique_ptr<Server> server(
      new Server(std::move(config), std::move(online).value(), std::move(monitor), std::move(log)));
  RETURN_IF_ERROR(server->manager_->Start());
  server->shadows_.Start();
  return server;
}

Server::~Server() { Shutdown(); }

Status Server::AddTransport(std::unique_ptr<Transport> transport) {
  if (shut_down_) return FailedPreconditionError("the server is shut down");
  if (FindTransport(transport->name()) != nullptr) {
    return FailedPreconditionError("a transport named '" + std::string(transport->name()) +
                                   "' is already attached");
  }
  RETURN_IF_ERROR(transport->Start());
  BIMRIDE_LOG(INFO) << "model server listening on " << config_.host << ":" << transport->port()
                    << " (" << transport->name() << "; repository " << config_.model_repo << ")";
  transports_.push_back(std::move(transport));
  return OkStatus();
}

Transport* Server::FindTransport(std::string_view name) const {
  for (const auto& t : transports_) {
    if (t->name() == name) return t.get();
  }
  return nullptr;
}

void Server::Shutdown(int drain_ms) {
  if (shut_down_) return;
  shut_down_ = true;
  rollouts_->Stop();  // no more checks or label moves; rollouts in progress stay as they are
  for (auto& t : transports_) t->Stop(drain_ms);  // no new requests; in-flight ones answered
  shadows_.Stop();                                // queued mirrors run, releasing servables
  manager_->Stop();                               // batchers drain, versions unload
  if (prediction_log_) (void)prediction_log_->Flush();  // every logged row on disk
  BIMRIDE_LOG(INFO) << "model server stopped";
}

}  // namespace bimride::serving
