// ServerConfig: everything `bimride serve` can be told, from flags and an optional JSON config
// file. Example file:
//
//   {"server": {"host": "127.0.0.1", "port": 8501, "io_threads": 2, "max_body_bytes": 4194304,
//               "max_batch_rows": 1024, "poll_interval_ms": 1000, "access_log": "stderr",
//               "admin_token": "…", "max_connections": 10000, "max_header_bytes": 16384,
//               "header_timeout_ms": 10000, "grpc_port": 8500,
//               "grpc_max_message_bytes": 67108864},
//    "prediction_log": {"dir": "/var/log/bimride/predictions", "sample_rate": 0.1,
//                       "max_file_rows": 1048576, "max_file_age_ms": 600000,
//                       "disk_budget_bytes": 1073741824, "queue_rows": 262144},
//    "model_defaults": {"version_policy": {"latest": 1}},
//    "models": {"eta": {"version_policy": {"specific": [3, 4]},
//                       "labels": {"stable": 3, "canary": 4},
//                       "batching": {"max_batch_size": 32, "max_queue_delay_us": 200,
//                                    "max_queue_size": 1024},
//                       "routing": {"split": {"stable": 95, "canary": 5},
//                                   "sticky_header": "x-rider-id", "sticky_field": "rider_id",
//                                   "shadow": ["canary"]}}}}
//
// Version policies (TF Serving's): {"latest": N} (default N = 1), {"specific": [v, …]},
// {"all": true}. Versions a label points to are always loaded as well.
// Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "monitoring/live_monitor.h"
#include "monitoring/prediction_log.h"
#include "serving/dynamic_batcher.h"

namespace bimride::serving {

struct VersionPolicy {
  enum class Kind { kLatest, kSpecific, kAll };
  Kind kind = Kind::kLatest;
  int64_t latest = 1;
  std::vector<int64_t> specific;
};

struct TrafficShare {
  std::string label;  // a label ("stable", "canary") or a version number as text
  int64_t weight = 0;
};

struct RoutingConfig {
  std::vector<TrafficShare> split;  // empty: default route ("stable" label, else latest)
  std::string sticky_header;        // request header whose value keeps a caller on one side
  std::string sticky_field;         // or a raw request field (first row) doing the same
  std::vector<std::string> shadow;  // labels/versions mirrored (answers compared, never returned)
};

struct ModelConfig {
  VersionPolicy policy;
  BatchingOptions batching;
  std::map<std::string, int64_t> labels;
  RoutingConfig routing;
};

struct ServerConfig {
  std::string model_repo;
  std::string host = "127.0.0.1";
  int64_t port = 8501;
  int64_t io_threads = 0;             // 0: one per core
  int64_t max_body_bytes = 4 << 20;   // larger bodies → 413
  int64_t max_batch_rows = 1024;      // more rows in one request → 413
  int64_t poll_interval_ms = 1000;    // repository polling; 0: only on /v2/repository calls
  int64_t model_threads = 1;          // intra-op threads handed to backends
  std::string access_log = "off";     // "off", "stderr", or a file path
  std::string admin_token;            // bearer token for /v2/repository (env BIMRIDE_ADMIN_TOKEN)
  int64_t max_connections = 10000;    // open connections beyond → 503 and closed
  int64_t max_header_bytes = 16 << 10;  // larger request line + header → 431
  int64_t header_timeout_ms = 10000;    // a request head must arrive within this of its first byte
  // gRPC (KServe v2 GRPCInferenceService, TF Serving PredictionService; serving/grpc/): off
  // unless a port is given (0: a free one). Messages larger than grpc_max_message_bytes, either
  // way, are refused with RESOURCE_EXHAUSTED; gRPC's own default of 4 MiB is raised to 64 MiB
  // (rows are bounded by max_batch_rows as well).
  int64_t grpc_port = -1;
  int64_t grpc_max_message_bytes = 64 << 20;
  // Prediction log (monitoring/prediction_log.h): off unless `prediction_log.dir` is set.
  monitoring::PredictionLogOptions prediction_log;
  // Live monitor (monitoring/live_monitor.h): on with the prediction log; joins POST
  // /v1/feedback labels to logged predictions. Config file: "monitor": {"window_rows": …}.
  monitoring::LiveMonitorOptions monitor;
  // Live state feature adapters read at request time (online/feature_store.h): "memory" (this
  // process) or a shared store's URL. Config file: "online_store": {"url": …, "ttl_seconds": …}.
  std::string online_store = "memory";
  int64_t online_ttl_seconds = 6 * 3600;
  ModelConfig model_defaults;
  std::map<std::string, ModelConfig> models;

  const ModelConfig& ForModel(const std::string& model) const;
};

// Reads the optional parts of `config` over `*out` (flags set the rest). InvalidArgument naming
// the file and key on wrong types or values.
Status ApplyConfigFile(const Config& config, ServerConfig* out);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace bimride::serving
