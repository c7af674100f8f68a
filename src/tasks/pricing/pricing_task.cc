// The pricing task's one registration: its commands (tasks/task.h). Linked whole into `bimride`
// through bimride_tasks.
#include "tasks/pricing/pricing_cli.h"
#include "tasks/pricing/pricing_serving.h"
#include "tasks/task.h"

namespace bimride::tasks::pricing {
namespace {

Task MakePricingTask() {
  Task t;
  t.name = "pricing";
  t.summary = "surge multiplier per zone and 5 minutes, judged in a marketplace simulation";
  t.verbs = {
      {"market", "", "simulate the marketplace (riders, drivers, dispatch) under a pricing policy",
       RunMarket},
      {"eval", "pricing",
       "the pricing study: every policy over simulated days × seeds, outage, reality checks",
       RunEvalPricing},
      {"train", "pricing",
       "publish a pricing policy (and its learned demand forecast) as a servable version",
       RunTrainPricing}};
  for (auto& [name, factory] : PricingFeatureSpecs()) t.feature_specs.push_back({name, factory});
  t.online_events = {{kMarketEventKind, RecordMarketEvents}};
  return t;
}

}  // namespace
}  // namespace bimride::tasks::pricing

BIMRIDE_TASK(bimride::tasks::pricing::MakePricingTask());
