// The demand task's commands, registered by demand_task.cc. Thin: flags → tasks/demand library
// calls; runs are tracked in the registry's store. Each returns the process exit code.
//
//   bimride train demand     train a demand model on a period and publish it to the registry
//   bimride backtest demand  rolling-origin comparison of all demand models on a test period
//   bimride forecast --model M --at TIME [--zones …] --history FILE…
//                            forecasts from a published demand model, computed the way the
//                            model server computes them (same feature code, same context
//                            files). M is a version folder or a registry reference (demand,
//                            demand:3, demand:stable); the history must cover the week before
//                            TIME; forecasts are for the H buckets from TIME (floored) on.
#pragma once

#include <string>
#include <vector>

namespace bimride::tasks::demand {

int RunTrainDemand(const std::vector<std::string>& args);
int RunBacktestDemand(const std::vector<std::string>& args);
int RunForecast(const std::vector<std::string>& args);

}  // namespace bimride::tasks::demand
