#include "serving/server_config.h"

#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>

namespace bimride::serving {
namespace {

using nlohmann::json;

// `where` is "<file>: <key path>"; every key of `obj` must be one of `known`.
Status CheckKeys(const json& obj, std::initializer_list<const char*> known,
                 const std::string& where) {
  for (auto& [key, unused] : obj.items()) {
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (found) continue;
    std::string list;
    for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return InvalidArgumentError(where + (where.back() == ' ' ? "" : ".") + key +
                                ": unknown key; expected one of: " + list);
  }
  return OkStatus();
}

Status ReadInt(const json& obj, const char* key, int64_t* out, const std::string& where,
               int64_t min_value, int64_t max_value = std::numeric_limits<int64_t>::max()) {
  auto it = obj.find(key);
  if (it == obj.end()) return OkStatus();
  // (An unsigned beyond int64 reads as negative: below every minimum here.)
  if (!it->is_number_integer() || it->get<int64_t>() < min_value ||
      it->get<int64_t>() > max_value) {
    return InvalidArgumentError(
        where + "." + key + ": must be an integer " +
        (max_value == std::numeric_limits<int64_t>::max()
             ? ">= " + std::to_string(min_value)
             : "in " + std::to_string(min_value) + ".." + std::to_string(max_value)));
  }
  *out = it->get<int64_t>();
  return OkStatus();
}

Status ParseModelConfig(const json& m, const std::string& where, ModelConfig* out) {
  if (!m.is_object()) return InvalidArgumentError(where + ": must be an object");
  RETURN_IF_ERROR(CheckKeys(m, {"version_policy", "batching", "labels", "routing"}, where));
  if (auto it = m.find("version_policy"); it != m.end()) {
    const json& p = *it;
    const std::string pw = where + ".version_policy";
    if (!p.is_object() || p.size() != 1) {
      return InvalidArgumentError(pw + ": must be one of {\"latest\": N}, {\"specific\": [...]}, "
                                       "{\"all\": true}");
    }
    if (p.contains("latest")) {
      out->policy.kind = VersionPolicy::Kind::kLatest;
      RETURN_IF_ERROR(ReadInt(p, "latest", &out->policy.latest, pw, 1));
    } else if (p.contains("specific")) {
      out->policy.kind = VersionPolicy::Kind::kSpecific;
      const json& v = p["specific"];
      if (!v.is_array() || v.empty()) {
        return InvalidArgumentError(pw + ".specific: must be a non-empty array of versions");
      }
      out->policy.specific.clear();
      for (const json& x : v) {
        if (!x.is_number_integer() || x.get<int64_t>() <= 0) {
          return InvalidArgumentError(pw + ".specific: versions must be positive integers");
        }
        out->policy.specific.push_back(x.get<int64_t>());
      }
    } else if (p.contains("all")) {
      if (p["all"] != true) return InvalidArgumentError(pw + ".all: must be true");
      out->policy.kind = VersionPolicy::Kind::kAll;
    } else {
      return InvalidArgumentError(pw + ": unknown policy '" + p.begin().key() + "'");
    }
  }
  if (auto it = m.find("batching"); it != m.end()) {
    const std::string bw = where + ".batching";
    if (!it->is_object()) return InvalidArgumentError(bw + ": must be an object");
    RETURN_IF_ERROR(CheckKeys(*it, {"max_batch_size", "max_queue_delay_us", "max_queue_size"}, bw));
    RETURN_IF_ERROR(ReadInt(*it, "max_batch_size", &out->batching.max_batch_size, bw, 0));
    RETURN_IF_ERROR(ReadInt(*it, "max_queue_delay_us", &out->batching.max_queue_delay_us, bw, 0));
    RETURN_IF_ERROR(ReadInt(*it, "max_queue_size", &out->batching.max_queue_size, bw, 1));
  }
  if (auto it = m.find("labels"); it != m.end()) {
    if (!it->is_object()) return InvalidArgumentError(where + ".labels: must be an object");
    for (auto& [label, v] : it->items()) {
      if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
        return InvalidArgumentError(where + ".labels." + label + ": must be a version number");
      }
      out->labels[label] = v.get<int64_t>();
    }
  }
  if (auto it = m.find("routing"); it != m.end()) {
    const std::string rw = where + ".routing";
    const json& r = *it;
    if (!r.is_object()) return InvalidArgumentError(rw + ": must be an object");
    RETURN_IF_ERROR(CheckKeys(r, {"split", "sticky_header", "sticky_field", "shadow"}, rw));
    if (auto s = r.find("split"); s != r.end()) {
      if (!s->is_object()) {
        return InvalidArgumentError(rw + ".split: must map labels to integer weights");
      }
      int64_t total = 0;
      for (auto& [label, w] : s->items()) {
        if (!w.is_number_integer() || w.get<int64_t>() < 0) {
          return InvalidArgumentError(rw + ".split." + label + ": weight must be an integer >= 0");
        }
        out->routing.split.push_back({label, w.get<int64_t>()});
        total += w.get<int64_t>();
      }
      if (total <= 0) return InvalidArgumentError(rw + ".split: weights must sum to > 0");
    }
    for (const char* key : {"sticky_header", "sticky_field"}) {
      if (auto s = r.find(key); s != r.end()) {
        if (!s->is_string()) return InvalidArgumentError(rw + "." + key + ": must be a string");
        (std::string(key) == "sticky_header" ? out->routing.sticky_header
                                             : out->routing.sticky_field) = s->get<std::string>();
      }
    }
    if (auto s = r.find("shadow"); s != r.end()) {
      if (!s->is_array()) return InvalidArgumentError(rw + ".shadow: must be an array");
      for (const json& x : *s) {
        if (x.is_string()) {
          out->routing.shadow.push_back(x.get<std::string>());
        } else if (x.is_number_integer()) {
          out->routing.shadow.push_back(std::to_string(x.get<int64_t>()));
        } else {
          return InvalidArgumentError(rw + ".shadow: entries are labels or versions");
        }
      }
    }
  }
  return OkStatus();
}

}  // namespace

const ModelConfig& ServerConfig::ForModel(const std::string& model) const {
  auto it = models.find(model);
  return it == models.end() ? model_defaults : it->second;
}

Status ApplyConfigFile(const Config& config, ServerConfig* out) {
  ASSIGN_OR_RETURN(std::string text, config.SubtreeJson(""));
  json doc = json::parse(text, nullptr, false);
  const std::string& src = config.source();
  try {
    if (!doc.is_object()) return InvalidArgumentError(src + ": must be a JSON object");
    RETURN_IF_ERROR(
        CheckKeys(doc, {"server", "prediction_log", "monitor", "online_store", "model_defaults", "models"},
                  src + ": "));
    if (auto it = doc.find("monitor"); it != doc.end()) {
      const json& p = *it;
      const std::string pw = src + ": monitor";
      if (!p.is_object()) return InvalidArgumentError(pw + ": must be an object");
      RETURN_IF_ERROR(CheckKeys(
          p,
          {"window_rows", "max_pending_rows", "max_waiting_labels", "max_windows",
           "anchor_windows", "anchor_prior_rows"},
          pw));
      monitoring::LiveMonitorOptions& o = out->monitor;
      RETURN_IF_ERROR(ReadInt(p, "window_rows", &o.window_rows, pw, 1));
      RETURN_IF_ERROR(ReadInt(p, "max_pending_rows", &o.max_pending_rows, pw, 1));
      RETURN_IF_ERROR(ReadInt(p, "max_waiting_labels", &o.max_waiting_labels, pw, 1));
      RETURN_IF_ERROR(ReadInt(p, "max_windows", &o.max_windows, pw, 1));
      RETURN_IF_ERROR(ReadInt(p, "anchor_windows", &o.anchor_windows, pw, 0));
      RETURN_IF_ERROR(ReadInt(p, "anchor_prior_rows", &o.anchor_prior_rows, pw, 0));
    }
    if (auto it = doc.find("online_store"); it != doc.end()) {
      const json& p = *it;
      const std::string pw = src + ": online_store";
      if (!p.is_object()) return InvalidArgumentError(pw + ": must be an object");
      RETURN_IF_ERROR(CheckKeys(p, {"url", "ttl_seconds"}, pw));
      if (auto v = p.find("url"); v != p.end()) {
        if (!v->is_string()) return InvalidArgumentError(pw + ".url: must be a string");
        out->online_store = v->get<std::string>();
      }
      RETURN_IF_ERROR(ReadInt(p, "ttl_seconds", &out->online_ttl_seconds, pw, 1));
    }
    if (auto it = doc.find("prediction_log"); it != doc.end()) {
      const json& p = *it;
      const std::string pw = src + ": prediction_log";
      if (!p.is_object()) return InvalidArgumentError(pw + ": must be an object");
      RETURN_IF_ERROR(CheckKeys(p,
                                {"dir", "sample_rate", "max_file_rows", "max_file_age_ms",
                                 "disk_budget_bytes", "queue_rows"},
                                pw));
      monitoring::PredictionLogOptions& o = out->prediction_log;
      if (auto v = p.find("dir"); v != p.end()) {
        if (!v->is_string()) return InvalidArgumentError(pw + ".dir: must be a string");
        o.dir = v->get<std::string>();
      }
      if (auto v = p.find("sample_rate"); v != p.end()) {
        if (!v->is_number() || !(v->get<double>() > 0 && v->get<double>() <= 1)) {
          return InvalidArgumentError(pw + ".sample_rate: must be a number in (0, 1]");
        }
        o.sample_rate = v->get<double>();
      }
      RETURN_IF_ERROR(ReadInt(p, "max_file_rows", &o.max_file_rows, pw, 1));
      RETURN_IF_ERROR(ReadInt(p, "max_file_age_ms", &o.max_file_age_ms, pw, 1));
      RETURN_IF_ERROR(ReadInt(p, "disk_budget_bytes", &o.disk_budget_bytes, pw, 1));
      RETURN_IF_ERROR(ReadInt(p, "queue_rows", &o.queue_rows, pw, 1));
    }
    if (auto it = doc.find("server"); it != doc.end()) {
      const json& s = *it;
      const std::string sw = src + ": server";
      if (!s.is_object()) return InvalidArgumentError(sw + ": must be an object");
      RETURN_IF_ERROR(
          CheckKeys(s,
                    {"host", "port", "model_repo", "io_threads", "max_body_bytes", "max_batch_rows",
                     "poll_interval_ms", "model_threads", "access_log", "admin_token",
                     "max_connections", "max_header_bytes", "header_timeout_ms", "grpc_port",
                     "grpc_max_message_bytes"},
                    sw));
      for (const char* key : {"host", "model_repo", "access_log", "admin_token"}) {
        if (auto v = s.find(key); v != s.end()) {
          if (!v->is_string()) return InvalidArgumentError(sw + "." + key + ": must be a string");
          std::string value = v->get<std::string>();
          std::string k = key;
          (k == "host"         ? out->host
           : k == "model_repo" ? out->model_repo
           : k == "access_log" ? out->access_log
                               : out->admin_token) = value;
        }
      }
      RETURN_IF_ERROR(ReadInt(s, "port", &out->port, sw, 0, 65535));
      RETURN_IF_ERROR(ReadInt(s, "io_threads", &out->io_threads, sw, 0, 1024));
      RETURN_IF_ERROR(ReadInt(s, "max_body_bytes", &out->max_body_bytes, sw, 64));
      RETURN_IF_ERROR(ReadInt(s, "max_batch_rows", &out->max_batch_rows, sw, 1));
      RETURN_IF_ERROR(ReadInt(s, "poll_interval_ms", &out->poll_interval_ms, sw, 0));
      RETURN_IF_ERROR(ReadInt(s, "model_threads", &out->model_threads, sw, 1, 1024));
      RETURN_IF_ERROR(ReadInt(s, "max_connections", &out->max_connections, sw, 1, 1 << 24));
      RETURN_IF_ERROR(ReadInt(s, "max_header_bytes", &out->max_header_bytes, sw, 256, 1 << 24));
      RETURN_IF_ERROR(ReadInt(s, "header_timeout_ms", &out->header_timeout_ms, sw, 1, 3600 * 1000));
      RETURN_IF_ERROR(ReadInt(s, "grpc_port", &out->grpc_port, sw, -1, 65535));
      RETURN_IF_ERROR(ReadInt(s, "grpc_max_message_bytes", &out->grpc_max_message_bytes, sw, 1024,
                              std::numeric_limits<int32_t>::max()));
    }
    if (auto it = doc.find("model_defaults"); it != doc.end()) {
      RETURN_IF_ERROR(ParseModelConfig(*it, src + ": model_defaults", &out->model_defaults));
    }
    if (auto it = doc.find("models"); it != doc.end()) {
      if (!it->is_object()) return InvalidArgumentError(src + ": models: must be an object");
      for (auto& [name, m] : it->items()) {
        ModelConfig mc = out->model_defaults;
        RETURN_IF_ERROR(ParseModelConfig(m, src + ": models." + name, &mc));
        out->models[name] = mc;
      }
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(src + ": " + e.what());
  }
  return OkStatus();
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace bimride::serving
