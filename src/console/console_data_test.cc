#include "console/console_data.h"

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "common/civil_time.h"
#include "common/file.h"
#include "console/console_export.h"
#include "console/console_handler.h"
#include "registry/registry.h"
#include "serving/servable_manager.h"
#include "serving/service.h"
#include "serving/shadow_queue.h"
#include "serving/testing/test_models.h"

namespace bimride::console {
namespace {

using nlohmann::json;
using serving::testing::MakeTempDir;
using serving::testing::WriteTestVersion;

// Unit tests do not read the shared data: no shapefile (console_zones_test has the real one).
const char kNoZones[] = "/nonexistent/zones";

struct Fixture {
  std::string repo = MakeTempDir("console_repo");
  std::string run_a, run_b;
  std::unique_ptr<ConsoleData> data;

  Fixture() {
    serving::testing::RegisterTestBackendAndFeatures();
    auto reg = registry::Registry::Open(repo);
    EXPECT_TRUE(reg.ok()) << reg.status().ToString();
    // eta through the registry (indexed, as trainers publish); demand written around it into
    // the folder only (not indexed: the console reads its manifests).
    const std::string scratch = MakeTempDir("console_artifact");
    EXPECT_TRUE(WriteFileAtomic(scratch + "/model.json", "{}").ok());
    for (int v = 1; v <= 3; ++v) {
      registry::Manifest m;
      m.name = "eta";
      m.task = "eta";
      m.backend = "baseline";
      m.inputs = {{"features", registry::DType::kFloat32, {-1, 3}}};
      m.outputs = {{"y", registry::DType::kFloat32, {-1, 1}}};
      m.metrics["val_rmse"] = 6.0 - v;
      auto published = (*reg)->Publish({{scratch + "/model.json", ""}}, m);
      EXPECT_TRUE(published.ok()) << published.status().ToString();
    }
    EXPECT_TRUE(WriteTestVersion(repo, "demand", 1).ok());
    EXPECT_TRUE((*reg)->Promote("eta", 2, "stable", "first good one", "ana").ok());
    EXPECT_TRUE((*reg)->Promote("eta", 3, "canary", "try 3", "bo").ok());
    EXPECT_TRUE((*reg)->Promote("eta", 3, "stable", "3 is better", "ana").ok());
    for (std::string* id : {&run_a, &run_b}) {
      auto run = (*reg)->StartRun("eta", {{"lr", id == &run_a ? "0.01" : "0.003"}, {"epochs", "3"}},
                                  {});
      EXPECT_TRUE(run.ok()) << run.status().ToString();
      for (int epoch = 1; epoch <= 3; ++epoch) {
        EXPECT_TRUE((*run)->LogMetric("val_rmse", 10.0 / epoch, epoch).ok());
      }
      EXPECT_TRUE((*run)->EndRun(registry::RunStatus::kFinished).ok());
      *id = (*run)->run_id();
    }
    ConsoleOptions o;
    o.model_repo = repo;
    o.zones_dir = kNoZones;
    auto d = ConsoleData::Open(o, nullptr);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    data = std::move(d).value();
  }

  json Get(std::string_view path, std::string_view query = "") {
    StatusOr<std::string> body = data->Get(path, query);
    EXPECT_TRUE(body.ok()) << path << ": " << body.status().ToString();
    return body.ok() ? json::parse(*body) : json();
  }
  Status Error(std::string_view path, std::string_view query = "") {
    StatusOr<std::string> body = data->Get(path, query);
    EXPECT_FALSE(body.ok()) << path << " answered " << (body.ok() ? *body : "");
    return body.status();
  }
};

TEST(ConsoleDataTest, ModelsVersionsLabelsAndAuditComeFromTheRegistry) {
  Fixture f;
  json models = f.Get("models");
  ASSERT_EQ(models["models"].size(), 2u);
  EXPECT_EQ(models["total_versions"], 4);
  const json& eta = models["models"][1];
  EXPECT_EQ(eta["name"], "eta");
  EXPECT_EQ(eta["versions"], 3);
  EXPECT_EQ(eta["latest_version"], 3);
  EXPECT_EQ(eta["labels"]["stable"], 3);
  EXPECT_EQ(eta["labels"]["canary"], 3);

  json m = f.Get("models/eta");
  ASSERT_EQ(m["versions"].size(), 3u);
  EXPECT_EQ(m["versions"][0]["version"], 3) << "newest first";
  EXPECT_EQ(m["versions"][0]["labels"], json::array({"canary", "stable"}));
  ASSERT_EQ(m["history"].size(), 3u);
  EXPECT_EQ(m["history"][0]["label"], "stable") << "newest first";
  EXPECT_EQ(m["history"][0]["from_version"], 2);
  EXPECT_EQ(m["history"][0]["to_version"], 3);
  EXPECT_EQ(m["history"][0]["why"], "3 is better");
  EXPECT_EQ(m["history"][0]["who"], "ana");
  EXPECT_TRUE(m["history"][2]["from_version"].is_null()) << "a new label";

  json demand = f.Get("models/demand");
  ASSERT_EQ(demand["versions"].size(), 1u) << "not indexed: read from its folder";
  EXPECT_EQ(models["models"][0]["indexed"], false);

  json v = f.Get("models/eta/versions/2");
  EXPECT_EQ(v["manifest"]["metrics"]["val_rmse"], 4.0);
  EXPECT_EQ(v["manifest"]["name"], "eta");
  EXPECT_EQ(v["manifest"]["version"], 2);
  EXPECT_EQ(v["labels"], json::array());
}

TEST(ConsoleDataTest, RunsCurvesAndComparison) {
  Fixture f;
  json runs = f.Get("runs");
  ASSERT_EQ(runs["runs"].size(), 2u);
  json run = f.Get("runs/" + f.run_a);
  EXPECT_EQ(run["params"]["lr"], "0.01");
  EXPECT_EQ(run["curves"]["val_rmse"]["step"], json::array({1, 2, 3}));
  EXPECT_DOUBLE_EQ(run["curves"]["val_rmse"]["value"][1].get<double>(), 5.0);
  json cmp = f.Get("runs/compare", "a=" + f.run_a + "&b=" + f.run_b);
  ASSERT_EQ(cmp["params_differ"].size(), 1u) << "epochs is the same";
  EXPECT_EQ(cmp["params_differ"][0]["param"], "lr");
  EXPECT_EQ(cmp["params_differ"][0]["a"], "0.01");
  EXPECT_EQ(cmp["params_differ"][0]["b"], "0.003");
  EXPECT_EQ(cmp["b"]["run_id"], f.run_b);
}

TEST(ConsoleDataTest, BadInputIsAClearErrorNamingIt) {
  Fixture f;
  auto expect = [](const Status& s, StatusCode code, const std::string& want) {
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_NE(s.message().find(want), std::string::npos) << s.message();
  };
  expect(f.Error("nothing"), StatusCode::kNotFound, "unknown console API path 'nothing'");
  expect(f.Error("models/no_such"), StatusCode::kNotFound, "no_such");
  expect(f.Error("models/.."), StatusCode::kInvalidArgument, "model '..'");
  expect(f.Error("models/eta/versions/x"), StatusCode::kInvalidArgument, "version 'x'");
  expect(f.Error("models/eta/versions/0"), StatusCode::kInvalidArgument, "version '0'");
  expect(f.Error("models/eta/versions/9"), StatusCode::kNotFound, "9");
  expect(f.Error("models/eta/other"), StatusCode::kNotFound, "unknown console API path");
  expect(f.Error("runs/nope"), StatusCode::kNotFound, "nope");
  expect(f.Error("runs/compare", "a=" + f.run_a), StatusCode::kInvalidArgument, "?a=<run id>&b=");
  expect(f.Error("runs/compare", "a=x&b=%2e%2e"), StatusCode::kInvalidArgument, "run id '%2e%2e'");
  expect(f.Error("traffic"), StatusCode::kFailedPrecondition, "not running in a server");
  expect(f.Error("monitor"), StatusCode::kFailedPrecondition, "--prediction-log");
  expect(f.Error("surge", "model=pricing&time=2024-03-14%2021:07"), StatusCode::kFailedPrecondition,
         "not running in a server");
  expect(f.Error("series/none"), StatusCode::kNotFound, "no zone series named 'none'");
  expect(f.Error("series/../../etc"), StatusCode::kInvalidArgument, "series name");
  expect(f.Error("zones"), StatusCode::kNotFound, "/nonexistent/zones");
}

TEST(ConsoleDataTest, NoRegistryAndBadDataFolderAreSaid) {
  ConsoleOptions o;
  o.zones_dir = kNoZones;
  o.model_repo = MakeTempDir("console_empty") + "/missing";
  auto d = ConsoleData::Open(o, nullptr);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  StatusOr<std::string> models = (*d)->Get("models", "");
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(models.status().message().find("cannot open the registry"), std::string::npos)
      << models.status().message();

  ConsoleOptions bad;
  bad.zones_dir = kNoZones;
  bad.data_dir = MakeTempDir("console_data");
  ASSERT_TRUE(WriteFileAtomic(bad.data_dir + "/x.series.json", "{\"name\": 3}").ok());
  auto e = ConsoleData::Open(bad, nullptr);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("x.series.json: 'name' must be a string"),
            std::string::npos)
      << e.status().message();
  bad.data_dir += "/nope";
  EXPECT_EQ(ConsoleData::Open(bad, nullptr).status().code(), StatusCode::kNotFound);
}

TEST(ConsoleDataTest, SeriesOfTheDataFolderAreListedAndServed) {
  ConsoleOptions o;
  o.zones_dir = kNoZones;
  o.data_dir = MakeTempDir("console_data");
  ASSERT_TRUE(WriteFileAtomic(o.data_dir + "/surge.series.json",
                              R"({"name":"surge","title":"surge multiplier","unit":"x",)"
                              R"("times":["2021-03-10 08:00","2021-03-10 09:00"],"zones":[43],)"
                              R"("values":[1.5,null]})")
                  .ok());
  auto d = ConsoleData::Open(o, nullptr);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  json list = json::parse(*(*d)->Get("series", ""));
  ASSERT_EQ(list["series"].size(), 1u);
  EXPECT_EQ(list["series"][0]["name"], "surge");
  EXPECT_EQ(list["series"][0]["last"], "2021-03-10 09:00");
  json s = json::parse(*(*d)->Get("series/surge", ""));
  EXPECT_EQ(s["values"], json::array({1.5, nullptr}));
}

// A served model answering a multiplier per zone and time: features [1 + zone / 100, hour] from
// raw fields zone and time; outputs multiplier = feature 0, and hour.
Status PublishSurgeModel(const std::string& repo, const std::string& name, bool with_zones) {
  serving::RegisterFeatureAdapter(
      "console_zone_time_test",
      [](const serving::RawBatch& b, int) -> StatusOr<std::vector<float>> {
        const serving::RawColumn* zone = b.Find("zone");
        const serving::RawColumn* time = b.Find("time");
        if (zone == nullptr || time == nullptr) return InvalidArgumentError("zone and time");
        std::vector<float> out;
        for (int64_t r = 0; r < b.rows; ++r) {
          ASSIGN_OR_RETURN(int64_t t, ParseCivil(std::get<std::string>(time->values[r])));
          out.push_back(1.0f + static_cast<float>(std::get<double>(zone->values[r])) / 100.0f);
          out.push_back(static_cast<float>(HourOfDay(t)));
        }
        return out;
      });
  ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(repo));
  const std::string scratch = MakeTempDir("console_surge_artifact");
  RETURN_IF_ERROR(
      WriteFileAtomic(scratch + "/model.json", R"({"weights": [[1, 0], [0, 1]], "bias": [0, 0]})"));
  registry::Manifest m;
  m.name = name;
  m.task = "pricing";
  m.backend = "baseline";
  m.inputs = {{"features", registry::DType::kFloat32, {-1, 2}},
              {"zone", registry::DType::kInt32, {-1}},
              {"time", registry::DType::kString, {-1}}};
  m.outputs = {{"multiplier", registry::DType::kFloat32, {-1, 1}},
               {"hour", registry::DType::kFloat32, {-1, 1}}};
  m.feature_spec = registry::FeatureSpecRef{"console_zone_time_test", 1, {"zone", "time"}};
  if (with_zones) m.properties["zones"] = "5";
  return reg->Publish({{scratch + "/model.json", ""}}, m).status();
}

TEST(ConsoleDataTest, SurgeAsksTheServedModelForEveryZone) {
  serving::testing::RegisterTestBackendAndFeatures();
  const std::string repo = MakeTempDir("console_surge_repo");
  ASSERT_TRUE(PublishSurgeModel(repo, "pricing", true).ok());
  ASSERT_TRUE(PublishSurgeModel(repo, "nozones", false).ok());
  ASSERT_TRUE(WriteTestVersion(repo, "eta", 1).ok());
  serving::ServerConfig config;
  config.model_repo = repo;
  config.poll_interval_ms = 0;
  serving::ServingMetrics metrics;
  serving::ServableManager manager(config, &metrics, nullptr);
  ASSERT_TRUE(manager.Start().ok());
  serving::ShadowQueue shadows(serving::ShadowQueueOptions{});
  shadows.Start();
  {
    serving::Service service(&manager, &metrics, &shadows, config.max_batch_rows);
    ConsoleOptions o;
    o.zones_dir = kNoZones;
    auto d = ConsoleData::Open(o, &service);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    json list = json::parse(*(*d)->Get("series", ""));
    EXPECT_EQ(list["surge_models"], json::array({"nozones", "pricing"})) << list.dump();

    StatusOr<std::string> body = (*d)->Get("surge", "model=pricing&time=2024-03-14%2021:07");
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    json s = json::parse(*body);
    EXPECT_EQ(s["model"], "pricing");
    EXPECT_EQ(s["version"], 1);
    EXPECT_EQ(s["times"], json::array({"2024-03-14 21:07"}));
    EXPECT_EQ(s["zones"], json::array({1, 2, 3, 4, 5}));
    ASSERT_EQ(s["values"].size(), 5u);
    EXPECT_NEAR(s["values"][2].get<double>(), 1.03, 1e-6) << "zone 3's multiplier";
    EXPECT_NEAR(s["values"][4].get<double>(), 1.05, 1e-6);
    // A 'T' between date and time (the page's datetime field) and '+' for a space work too.
    EXPECT_TRUE((*d)->Get("surge", "model=pricing&time=2024-03-14T21:07").ok());
    EXPECT_TRUE((*d)->Get("surge", "time=2024-03-14+21:07&model=pricing").ok());

    auto expect = [&](std::string_view query, StatusCode code, const std::string& want) {
      StatusOr<std::string> r = (*d)->Get("surge", query);
      ASSERT_FALSE(r.ok()) << query;
      EXPECT_EQ(r.status().code(), code) << r.status().ToString();
      EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
    };
    expect("model=pricing", StatusCode::kInvalidArgument, "?model=<name>&time=");
    expect("time=2024-03-14%2021:07", StatusCode::kInvalidArgument, "?model=<name>&time=");
    expect("model=pricing&time=soon", StatusCode::kInvalidArgument, "time 'soon'");
    expect("model=..&time=2024-03-14%2021:07", StatusCode::kInvalidArgument, "model '..'");
    expect("model=none&time=2024-03-14%2021:07", StatusCode::kNotFound, "none");
    expect("model=pricing&label=stable&time=2024-03-14%2021:07", StatusCode::kNotFound, "stable");
    expect("model=eta&time=2024-03-14%2021:07", StatusCode::kFailedPrecondition,
           "does not answer a multiplier per zone and time");
    expect("model=nozones&time=2024-03-14%2021:07", StatusCode::kFailedPrecondition,
           "no property 'zones'");
  }
  shadows.Stop();
  manager.Stop();
}

TEST(ConsoleExportTest, WritesAssetsStaticFlagAndOneDataScriptPerPath) {
  Fixture f;
  std::map<std::string, StaticAsset> assets = {
      {"index.html", {"text/html", "<html></html>"}}, {"lib/app.js", {"text/javascript", "1;"}}};
  const std::string out = MakeTempDir("console_export");
  auto report = ExportConsole(*f.data, assets, out);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(*ReadFile(out + "/lib/app.js"), "1;");
  EXPECT_EQ(*ReadFile(out + "/static.js"), "window.BIMRIDE_STATIC = true;\n");
  auto script = ReadFile(out + "/data/models~eta.js");
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  const std::string prefix = "(window.BIMRIDE_DATA = window.BIMRIDE_DATA || {})[\"models/eta\"] = ";
  ASSERT_EQ(script->substr(0, prefix.size()), prefix);
  json m = json::parse(script->substr(prefix.size(), script->size() - prefix.size() - 2));
  EXPECT_EQ(m["versions"].size(), 3u);
  EXPECT_TRUE(FileExists(out + "/data/runs~" + f.run_a + ".js"));
  EXPECT_TRUE(FileExists(out + "/data/models~eta~versions~3.js"));
  // Nothing is silently left out: every path is written or listed with why (here only the zones:
  // no shapefile; without a server there is no traffic or monitor to export).
  ASSERT_EQ(report->skipped.size(), 1u);
  EXPECT_NE(report->skipped[0].find("zones: /nonexistent/zones"), std::string::npos)
      << report->skipped[0];
}

TEST(ConsoleHandlerTest, ServesPagesApiAndRefusesWritesAndUnknownFiles) {
  Fixture f;
  std::map<std::string, StaticAsset> assets = {{"index.html", {"text/html", "<p>console</p>"}}};
  ConsoleHandler handler(std::move(f.data), assets);
  struct Req : serving::http::HttpRequest {
    std::string m, t, b;
    std::string_view method() const override { return m; }
    std::string_view target() const override { return t; }
    const std::string& body() const override { return b; }
    std::string_view remote_address() const override { return "127.0.0.1"; }
    std::string_view Get(std::string_view) const override { return {}; }
  };
  auto call = [&](std::string method, std::string target) {
    Req r;
    r.m = std::move(method);
    r.t = std::move(target);
    std::promise<serving::http::HttpResponse> p;
    handler.Handle(r, [&p](serving::http::HttpResponse resp) { p.set_value(std::move(resp)); });
    return p.get_future().get();
  };
  EXPECT_EQ(call("GET", "/ui/").body, "<p>console</p>");
  EXPECT_EQ(call("GET", "/ui/").content_type, "text/html");
  EXPECT_NE(call("GET", "/ui").body.find("url=/ui/"), std::string::npos);
  auto models = call("GET", "/ui/api/models?x=1");
  EXPECT_EQ(models.status, 200);
  EXPECT_EQ(json::parse(models.body)["models"].size(), 2u);
  EXPECT_EQ(call("POST", "/ui/api/models").status, 405);
  EXPECT_EQ(call("GET", "/ui/../etc/passwd").status, 404);
  EXPECT_EQ(call("GET", "/ui/api/models/eta/versions/abc").status, 400);
  EXPECT_EQ(call("GET", "/ui/api/traffic/stream").status, 400) << "no server: FailedPrecondition";
  auto missing = call("GET", "/ui/api/runs/none");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("none"), std::string::npos);
  EXPECT_FALSE(LoadAssets(MakeTempDir("console_noui")).ok()) << "no index.html";
}

}  // namespace
}  // namespace bimride::console
