#include "serving/service.h"

#include <cmath>

namespace bimride::serving {
namespace {

std::string RawToText(const RawValue& v) {
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  double d = std::get<double>(v);
  if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
  return std::to_string(d);
}

std::string VersionName(const Servable& s) {
  return "model '" + s.spec().model + "' version " + std::to_string(s.spec().version);
}

}  // namespace

Service::Service(ServableManager* manager, ServingMetrics* metrics, ShadowQueue* shadows,
                 int64_t max_batch_rows)
    : manager_(manager), metrics_(metrics), shadows_(shadows), max_batch_rows_(max_batch_rows) {}

Service::~Service() = default;

StatusOr<std::vector<float>> Service::BuildFeatures(const Servable& servable,
                                                    ModelInput& input) const {
  const ServableSpec& spec = servable.spec();
  const int width = servable.model().num_features();
  if (input.rows <= 0) return InvalidArgumentError("request has no rows");
  if (input.rows > max_batch_rows_) {
    return OutOfRangeError("request has " + std::to_string(input.rows) + " rows; the limit is " +
                           std::to_string(max_batch_rows_));
  }
  // A single numeric column named like the model's input is a width-1 tensor, not raw fields.
  if (input.is_raw() && spec.feature_spec.empty() && input.raw.columns.size() == 1 &&
      input.raw.columns[0].name == spec.input_name) {
    RawColumn& c = input.raw.columns[0];
    std::vector<float> values;
    for (const RawValue& v : c.values) {
      const double* d = std::get_if<double>(&v);
      if (d == nullptr) {
        return InvalidArgumentError("input '" + c.name + "' must be numeric");
      }
      values.push_back(static_cast<float>(*d));
    }
    input.tensor_name = c.name;
    input.values = std::move(values);
    input.width = 1;
    input.raw.columns.clear();
  }
  if (input.is_raw()) {
    if (spec.feature_spec.empty()) {
      return InvalidArgumentError(VersionName(servable) + " takes a numeric input '" +
                                  spec.input_name + "' of " + std::to_string(width) +
                                  " values per row; it has no feature spec for raw fields");
    }
    for (const std::string& field : spec.raw_fields) {
      if (input.raw.Find(field) == nullptr) {
        return InvalidArgumentError("missing raw field '" + field + "' (feature spec '" +
                                    spec.feature_spec + "' of " + VersionName(servable) + ")");
      }
    }
    for (const RawColumn& c : input.raw.columns) {
      if (static_cast<int64_t>(c.values.size()) != input.rows) {
        return InvalidArgumentError("raw field '" + c.name + "' has " +
                                    std::to_string(c.values.size()) + " values, expected " +
                                    std::to_string(input.rows));
      }
      for (size_t r = 0; r < c.values.size(); ++r) {
        if (const double* d = std::get_if<double>(&c.values[r]); d && !std::isfinite(*d)) {
          return InvalidArgumentError("raw field '" + c.name + "' row " + std::to_string(r) +
                                      ": NaN/Inf is not allowed");
        }
      }
    }
    input.raw.rows = input.rows;
    const FeatureAdapter* adapter = servable.feature_adapter();
    if (adapter == nullptr) {
      return InternalError(VersionName(servable) + " has feature spec '" + spec.feature_spec +
                           "' but no feature adapter");
    }
    ASSIGN_OR_RETURN(std::vector<float> features, (*adapter)(input.raw, width));
    if (static_cast<int64_t>(features.size()) != input.rows * width) {
      return InternalError("feature spec '" + spec.feature_spec + "' produced " +
                           std::to_string(features.size()) + " values for " +
                           std::to_string(input.rows) + " rows of width " + std::to_string(width));
    }
    return features;
  }
  if (!input.tensor_name.empty() && input.tensor_name != spec.input_name) {
    return InvalidArgumentError("unknown input '" + input.tensor_name + "'; " +
                                VersionName(servable) + " takes '" + spec.input_name + "'" +
                                (spec.feature_spec.empty() ? "" : " or raw fields"));
  }
  if (input.width != width) {
    return InvalidArgumentError("input '" + spec.input_name + "' has " +
                                std::to_string(input.width) + " values per row; " +
                                VersionName(servable) + " expects " + std::to_string(width));
  }
  for (size_t i = 0; i < input.values.size(); ++i) {
    if (!std::isfinite(input.values[i])) {
      return InvalidArgumentError(
          "input '" + spec.input_name + "' row " + std::to_string(i / width) + " column " +
          std::to_string(i % width) + ": NaN/Inf (or a value beyond float range) is not allowed");
    }
  }
  return std::move(input.values);
}

void Service::Predict(PredictRequest request, PredictDone done) {
  auto snapshot = manager_->Snapshot(request.model);
  if (!snapshot) {
    metrics_->For("", 0)->CountRequest(StatusCode::kNotFound);
    done(NotFoundError("model '" + request.model + "' not found"));
    return;
  }
  std::string key;
  const RoutingConfig& rc = snapshot->routing;
  if (!rc.sticky_header.empty() && request.headers != nullptr) {
    key = std::string(request.headers->Get(rc.sticky_header));
  }
  if (key.empty() && !rc.sticky_field.empty()) {
    if (const RawColumn* c = request.input.raw.Find(rc.sticky_field); c && !c->values.empty()) {
      key = RawToText(c->values[0]);
    }
  }
  StatusOr<Route> route = RouteRequest(*snapshot, request.selector, key);
  if (!route.ok()) {
    metrics_->For(request.model, 0)->CountRequest(route.status().code());
    done(route.status());
    return;
  }
  std::shared_ptr<const Servable> primary = std::move(route->primary);
  VersionMetrics* vm = primary->metrics();
  StatusOr<std::vector<float>> features = BuildFeatures(*primary, request.input);
  if (!features.ok()) {
    vm->CountRequest(features.status().code());
    done(features.status());
    return;
  }
  const int64_t rows = request.input.rows;
  std::vector<float> shadow_features;
  if (!route->shadows.empty()) shadow_features = *features;
  auto shadows = std::move(route->shadows);
  const Servable* p = primary.get();
  p->Predict(
      std::move(features).value(), rows,
      [this, primary = std::move(primary), done = std::move(done), rows,
       shadows = std::move(shadows), shadow_features = std::move(shadow_features)](
          Status status, std::vector<float> outputs, PredictTiming timing) mutable {
        VersionMetrics* vm = primary->metrics();
        if (status.ok()) {
          for (size_t i = 0; i < outputs.size(); ++i) {
            if (!std::isfinite(outputs[i])) {
              status =
                  InternalError(VersionName(*primary) + " produced a non-finite output at row " +
                                std::to_string(i / primary->spec().output_names.size()));
              break;
            }
          }
        } else if (status.code() != StatusCode::kResourceExhausted &&
                   status.code() != StatusCode::kUnavailable) {
          status = InternalError(VersionName(*primary) + ": " + status.message());
        }
        vm->CountRequest(status.code());
        if (!status.ok()) {
          done(status);
          return;
        }
        vm->queue_seconds.Observe(timing.queue_ns * 1e-9);
        vm->compute_seconds.Observe(timing.compute_ns * 1e-9);
        for (const std::shared_ptr<const Servable>& shadow : shadows) {
          shadows_->Enqueue({shadow, primary->spec().version, rows, shadow_features, outputs});
        }
        PredictResult result;
        result.servable = std::move(primary);
        result.rows = rows;
        result.values = std::move(outputs);
        result.timing = timing;
        done(std::move(result));
      });
}

StatusOr<std::vector<VersionStatus>> Service::GetModelStatus(
    const std::string& model, const VersionSelector& selector) const {
  ASSIGN_OR_RETURN(std::vector<VersionStatus> all, manager_->GetStatus(model));
  if (!selector.version.has_value() && selector.label.empty()) return all;
  int64_t version = selector.version.value_or(0);
  if (!selector.label.empty()) {
    auto snap = manager_->Snapshot(model);
    auto it = snap->labels.find(selector.label);
    if (it == snap->labels.end()) {
      return NotFoundError("model '" + model + "' has no label '" + selector.label + "'");
    }
    version = it->second;
  }
  for (const VersionStatus& v : all) {
    if (v.version == version) return std::vector<VersionStatus>{v};
  }
  return NotFoundError("model '" + model + "' has no version " + std::to_string(version));
}

StatusOr<ModelDescription> Service::DescribeModel(const std::string& model,
                                                  const VersionSelector& selector) const {
  auto snap = manager_->Snapshot(model);
  if (!snap) return NotFoundError("model '" + model + "' not found");
  std::shared_ptr<const Servable> s;
  if (selector.version.has_value() || !selector.label.empty()) {
    ASSIGN_OR_RETURN(Route r, RouteRequest(*snap, selector, ""));
    s = r.primary;
  } else {
    s = ResolveTarget(*snap, "stable");
    if (!s && !snap->available.empty()) s = snap->available.rbegin()->second;
  }
  if (!s) return UnavailableError("model '" + model + "' has no AVAILABLE version");
  ModelDescription d;
  d.spec = s->spec();
  for (const auto& [v, unused] : snap->available) d.available_versions.push_back(v);
  d.labels = snap->labels;
  return d;
}

Status Service::ModelReady(const std::string& model, const VersionSelector& selector) const {
  auto snap = manager_->Snapshot(model);
  if (!snap) return NotFoundError("model '" + model + "' not found");
  ASSIGN_OR_RETURN(Route r, RouteRequest(*snap, selector, ""));
  return OkStatus();
}

std::vector<RepositoryEntry> Service::RepositoryIndex() const {
  std::vector<RepositoryEntry> index;
  for (const std::string& name : manager_->ModelNames()) {
    auto versions = manager_->GetStatus(name);
    if (!versions.ok()) continue;  // unloaded since ModelNames
    for (VersionStatus& v : *versions) index.push_back({name, std::move(v)});
  }
  return index;
}

Status Service::LoadModel(const std::string& model) { return manager_->LoadModel(model); }

Status Service::UnloadModel(const std::string& model) { return manager_->UnloadModel(model); }

Status Service::SetLabel(const std::string& model, const std::string& label, int64_t version) {
  return manager_->SetLabel(model, label, version);
}

std::string Service::MetricsText() const {
  return metrics_->RenderPrometheus(manager_->LoadedVersions());
}

}  // namespace bimride::serving
