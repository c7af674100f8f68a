// The behaviour task's commands, registered by behaviour_task.cc. Thin: flags → library calls.
//
//   bimride train behaviour --city out/city.csv [--model xgboost|torch] [--repo R]
//       conversion models on a simulated city's files (written by `bimride simulate`), scored
//       on its later days against the baselines; a tracked run; the chosen learned model
//       published as a classifier.
//   bimride eval behaviour [--seeds 1,2,3] [--days 60] [--zones 40] [--price-test 0.2]
//                          [--retention-days 120] [--out results/behaviour.md]
//       simulates one city per seed, scores the conversion models and estimates the price
//       elasticities (naive, price test, regression discontinuity vs truth); scores retention
//       models on a longer city per seed; writes the report.
#pragma once

#include <string>
#include <vector>

namespace bimride::tasks::behaviour {

int RunTrainBehaviour(const std::vector<std::string>& args);
int RunEvalBehaviour(const std::vector<std::string>& args);

}  // namespace bimride::tasks::behaviour
