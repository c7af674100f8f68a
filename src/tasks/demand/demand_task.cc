// The demand task's one registration: its commands and its serving feature spec
// (tasks/task.h). Linked whole into `bimride` through bimride_tasks. Demand has no quickstart
// step: a useful forecast needs weeks of history, more than the quickstart city simulates.
#include "tasks/demand/demand_cli.h"
#include "tasks/demand/demand_online.h"
#include "tasks/demand/demand_serving.h"
#include "tasks/task.h"

namespace bimride::tasks::demand {
namespace {

Task MakeDemandTask() {
  Task t;
  t.name = "demand";
  t.summary = "pickups per zone and time bucket, H buckets ahead";
  t.verbs = {
      {"train", "demand", "train a demand model and publish it to the registry", RunTrainDemand},
      {"backtest", "demand", "rolling-origin backtest of the demand models", RunBacktestDemand},
      {"forecast", "", "demand forecasts per zone from a published demand model", RunForecast}};
  // recent_counts may be left out: the adapter then reads the zone's recent pickups from the
  // server's online store (demand_online.h), which POST /v1/online/pickups fills.
  for (auto& [name, factory] : DemandFeatureSpecs()) {
    t.feature_specs.push_back({name, factory, {"recent_counts"}});
  }
  t.online_events = {{kPickupsEventKind, RecordPickups}};
  return t;
}

}  // namespace
}  // namespace bimride::tasks::demand

BIMRIDE_TASK(bimride::tasks::demand::MakeDemandTask());
