#include "serving/server_config.h"

#include <gtest/gtest.h>

namespace bimride::serving {
namespace {

// ApplyConfigFile over `json_text` (as file "serve.json") onto a default ServerConfig.
StatusOr<ServerConfig> Apply(const std::string& json_text) {
  ASSIGN_OR_RETURN(Config config, Config::Parse(json_text, "serve.json"));
  ServerConfig out;
  RETURN_IF_ERROR(ApplyConfigFile(config, &out));
  return out;
}

std::string ErrorOf(const std::string& json_text) {
  auto r = Apply(json_text);
  EXPECT_FALSE(r.ok()) << json_text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  return std::string(r.status().message());
}

TEST(ServerConfigTest, ReadsTheDocumentedExample) {
  auto c = Apply(R"({
    "server": {"host": "0.0.0.0", "port": 8501, "io_threads": 2, "max_body_bytes": 4096,
               "max_batch_rows": 64, "poll_interval_ms": 0, "access_log": "stderr",
               "admin_token": "t", "model_repo": "/models", "model_threads": 2,
               "max_connections": 100, "max_header_bytes": 4096, "header_timeout_ms": 500},
    "model_defaults": {"version_policy": {"latest": 2}},
    "models": {"eta": {"version_policy": {"specific": [3, 4]},
                       "labels": {"stable": 3, "canary": 4},
                       "batching": {"max_batch_size": 32, "max_queue_delay_us": 200,
                                    "max_queue_size": 1024},
                       "routing": {"split": {"stable": 95, "canary": 5},
                                   "sticky_header": "x-rider-id", "sticky_field": "rider_id",
                                   "shadow": ["canary", 5]}},
               "demand": {"batching": {"max_batch_size": 8}}}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->host, "0.0.0.0");
  EXPECT_EQ(c->port, 8501);
  EXPECT_EQ(c->io_threads, 2);
  EXPECT_EQ(c->max_body_bytes, 4096);
  EXPECT_EQ(c->max_connections, 100);
  EXPECT_EQ(c->max_header_bytes, 4096);
  EXPECT_EQ(c->header_timeout_ms, 500);
  EXPECT_EQ(c->max_batch_rows, 64);
  EXPECT_EQ(c->poll_interval_ms, 0);
  EXPECT_EQ(c->model_threads, 2);
  EXPECT_EQ(c->access_log, "stderr");
  EXPECT_EQ(c->admin_token, "t");
  EXPECT_EQ(c->model_repo, "/models");
  const ModelConfig& eta = c->ForModel("eta");
  EXPECT_EQ(eta.policy.kind, VersionPolicy::Kind::kSpecific);
  EXPECT_EQ(eta.policy.specific, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(eta.labels.at("canary"), 4);
  EXPECT_EQ(eta.batching.max_batch_size, 32);
  EXPECT_EQ(eta.batching.max_queue_delay_us, 200);
  ASSERT_EQ(eta.routing.split.size(), 2u);
  EXPECT_EQ(eta.routing.sticky_header, "x-rider-id");
  EXPECT_EQ(eta.routing.sticky_field, "rider_id");
  EXPECT_EQ(eta.routing.shadow, (std::vector<std::string>{"canary", "5"}));
  const ModelConfig& demand = c->ForModel("demand");
  EXPECT_EQ(demand.policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(demand.policy.latest, 2) << "a model's config starts from model_defaults";
  EXPECT_EQ(demand.batching.max_batch_size, 8);
  EXPECT_EQ(&c->ForModel("pricing"), &c->model_defaults);
}

TEST(ServerConfigTest, KeysNotGivenKeepTheirValues) {
  auto c = Apply(R"({"server": {"port": 9000}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->port, 9000);
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->max_batch_rows, 1024);
  EXPECT_EQ(c->model_defaults.policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(c->model_defaults.policy.latest, 1);
  auto all = Apply(R"({"model_defaults": {"version_policy": {"all": true}}})");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->model_defaults.policy.kind, VersionPolicy::Kind::kAll);
}

TEST(ServerConfigTest, WrongTypesAndValuesNameTheFileAndKey) {
  struct Case {
    const char* json;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"server": []})", "serve.json: server: must be an object"},
           {R"({"online_store": {"url": 6379}})", "serve.json: online_store.url: must be a string"},
           {R"({"online_store": {"ttl_seconds": 0}})", "online_store.ttl_seconds: must be an integer >= 1"},
           {R"({"server": {"port": "80"}})",
            "serve.json: server.port: must be an integer in 0..65535"},
           {R"({"server": {"port": 70000}})", "server.port: must be an integer in 0..65535"},
           {R"({"server": {"host": 1}})", "server.host: must be a string"},
           {R"({"server": {"max_body_bytes": 10}})",
            "server.max_body_bytes: must be an integer >= 64"},
           {R"({"server": {"max_batch_rows": 0}})",
            "server.max_batch_rows: must be an integer >= 1"},
           {R"({"models": []})", "serve.json: models: must be an object"},
           {R"({"models": {"eta": 1}})", "models.eta: must be an object"},
           {R"({"models": {"eta": {"version_policy": {"latest": 1, "all": true}}}})",
            "models.eta.version_policy: must be one of"},
           {R"({"models": {"eta": {"version_policy": {"newest": 1}}}})", "unknown policy 'newest'"},
           {R"({"models": {"eta": {"version_policy": {"latest": 0}}}})",
            "version_policy.latest: must be an integer >= 1"},
           {R"({"models": {"eta": {"version_policy": {"specific": []}}}})",
            "specific: must be a non-empty array"},
           {R"({"models": {"eta": {"version_policy": {"specific": [0]}}}})",
            "versions must be positive integers"},
           {R"({"models": {"eta": {"batching": {"max_queue_size": 0}}}})",
            "models.eta.batching.max_queue_size: must be an integer >= 1"},
           {R"({"models": {"eta": {"labels": {"stable": "3"}}}})",
            "models.eta.labels.stable: must be a version number"},
           {R"({"models": {"eta": {"routing": {"split": {"stable": -1}}}}})",
            "routing.split.stable: weight must be an integer >= 0"},
           {R"({"models": {"eta": {"routing": {"split": {"stable": 0}}}}})",
            "routing.split: weights must sum to > 0"},
           {R"({"models": {"eta": {"routing": {"sticky_header": 1}}}})",
            "routing.sticky_header: must be a string"},
           {R"({"models": {"eta": {"routing": {"shadow": [true]}}}})",
            "routing.shadow: entries are labels or versions"},
       }) {
    EXPECT_NE(ErrorOf(c.json).find(c.message), std::string::npos)
        << c.json << " -> " << ErrorOf(c.json);
  }
}

TEST(ServerConfigTest, UnknownKeysAreErrorsNamingTheFileThePathAndTheKnownKeys) {
  struct Case {
    const char* json;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"sever": {"port": 80}})",
            "serve.json: sever: unknown key; expected one of: server, prediction_log, monitor, online_store, model_defaults, models"},
           {R"({"server": {"prot": 80}})", "serve.json: server.prot: unknown key; expected one of"},
           {R"({"models": {"eta": {"batchng": {"max_batch_size": 8}}}})",
            "serve.json: models.eta.batchng: unknown key; expected one of: version_policy, "
            "batching, labels, routing"},
           {R"({"model_defaults": {"batching": {"max_batch_sise": 8}}})",
            "serve.json: model_defaults.batching.max_batch_sise: unknown key"},
           {R"({"models": {"eta": {"routing": {"shadows": ["canary"]}}}})",
            "serve.json: models.eta.routing.shadows: unknown key"},
           {R"([1, 2])", "serve.json: top level must be a JSON object"},
           {R"({"models": {"eta": {"version_policy": {"all": false}}}})",
            "models.eta.version_policy.all: must be true"},
           {R"({"server": {"max_connections": 0}})",
            "serve.json: server.max_connections: must be an integer in 1..16777216"},
           {R"({"server": {"header_timeout_ms": "10s"}})",
            "serve.json: server.header_timeout_ms: must be an integer in 1..3600000"},
           {R"({"server": {"io_threads": 100000}})",
            "serve.json: server.io_threads: must be an integer in 0..1024"},
           {R"({"monitor": {"window_rows": 0}})",
            "serve.json: monitor.window_rows: must be an integer"},
           {R"({"monitor": {"windows": 10}})",
            "serve.json: monitor.windows: unknown key; expected one of: window_rows"},
           {R"({"monitor": {"anchor_windows": -1}})",
            "serve.json: monitor.anchor_windows: must be an integer"},
           {R"({"monitor": {"anchor_prior_rows": 2.5}})",
            "serve.json: monitor.anchor_prior_rows: must be an integer"},
       }) {
    EXPECT_NE(ErrorOf(c.json).find(c.message), std::string::npos)
        << c.json << " -> " << ErrorOf(c.json);
  }
}

TEST(ServerConfigTest, ReadsTheEstimateAnchoring) {
  EXPECT_EQ(ServerConfig().monitor.anchor_windows, 2);
  EXPECT_EQ(ServerConfig().monitor.anchor_prior_rows, 1000);
  auto c = Apply(R"({"monitor": {"anchor_windows": 0, "anchor_prior_rows": 250}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->monitor.anchor_windows, 0);  // 0: the raw estimate, never anchored
  EXPECT_EQ(c->monitor.anchor_prior_rows, 250);
}

TEST(ServerConfigTest, ReadsTheOnlineStore) {
  auto c = Apply(R"({"online_store": {"url": "redis://10.0.0.5:6379", "ttl_seconds": 600}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->online_store, "redis://10.0.0.5:6379");
  EXPECT_EQ(c->online_ttl_seconds, 600);
  EXPECT_EQ(ServerConfig().online_store, "memory");
}

TEST(ServerConfigTest, ReadsTheGrpcPortAndMessageLimit) {
  EXPECT_EQ(ServerConfig().grpc_port, -1);  // off unless asked for
  EXPECT_EQ(ServerConfig().grpc_max_message_bytes, 64 << 20);
  auto c = Apply(R"({"server": {"grpc_port": 8500, "grpc_max_message_bytes": 1048576}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->grpc_port, 8500);
  EXPECT_EQ(c->grpc_max_message_bytes, 1048576);
  EXPECT_NE(ErrorOf(R"({"server": {"grpc_port": 70000}})")
                .find("serve.json: server.grpc_port: must be an integer in -1..65535"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"server": {"grpc_max_message_bytes": 10}})")
                .find("server.grpc_max_message_bytes: must be an integer in 1024..2147483647"),
            std::string::npos);
}

TEST(ServerConfigTest, LoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "10.0.0.1", "::", "example.com", ""}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

}  // namespace
}  // namespace bimride::serving
