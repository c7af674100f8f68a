// The behaviour task's one registration: its commands and its serving feature spec
// (tasks/task.h). Linked whole into
// `bimride` through bimride_tasks.
#include "tasks/behaviour/behaviour_cli.h"
#include "tasks/behaviour/behaviour_serving.h"
#include "tasks/task.h"

namespace bimride::tasks::behaviour {
namespace {

Task MakeBehaviourTask() {
  Task t;
  t.name = "behaviour";
  t.summary =
      "how riders respond: conversion of a quote, retention, elasticity of conversion to price";
  t.verbs = {
      {"train", "behaviour",
       "train conversion (or, --target retention, retention) models on a simulated city and "
       "publish one",
       RunTrainBehaviour},
      {"eval", "behaviour",
       "conversion models and price elasticities (naive, price test, RD) over simulated cities",
       RunEvalBehaviour}};
  for (auto& [name, factory] : BehaviourFeatureSpecs()) t.feature_specs.push_back({name, factory});
  return t;
}

}  // namespace
}  // namespace bimride::tasks::behaviour

BIMRIDE_TASK(bimride::tasks::behaviour::MakeBehaviourTask());
