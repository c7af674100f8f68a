// The ETA task's one registration: its verbs, its two serving feature specs and its
// quickstart step (tasks/task.h). Linked whole into `bimride` through bimride_tasks.
#include "tasks/eta/eta_cli.h"
#include "tasks/eta/eta_quickstart.h"
#include "tasks/eta/eta_serving.h"
#include "tasks/task.h"

namespace bimride::tasks::eta {
namespace {

Task MakeEtaTask() {
  Task t;
  t.name = "eta";
  t.summary = "trip duration (ETA) in minutes from pickup/dropoff zones, time and distance";
  t.verbs = {
      {"train", "eta", "train a trip-duration model (a baseline or a trainer kind)", RunTrainEta},
      {"eval", "eta", "evaluate trip-duration models on trip files", RunEvalEta}};
  for (auto& [name, factory] : EtaFeatureSpecs()) t.feature_specs.push_back({name, factory});
  t.quickstart = RunEtaQuickstart;
  return t;
}

}  // namespace
}  // namespace bimride::tasks::eta

BIMRIDE_TASK(bimride::tasks::eta::MakeEtaTask());
