// The pricing task's commands, registered by pricing_task.cc. Thin: flags → library calls.
//
//   bimride market [--days 14] [--zones 40] [--seed 1] [--policy static|ratio|forecast] …
//       simulates the marketplace under one pricing policy and prints riders', drivers' and
//       revenue figures (and, with --intervals-csv, the 5-minute series).
//   bimride eval pricing [--seeds 1,2,3,4,5] [--days 14] [--data ../shared/data]
//                        [--out results/pricing.md]
//       the pricing study (tasks/pricing/pricing_report.h): the report and its SVG pictures.
//   bimride train pricing [--policy forecast] [--name pricing] [--repo R] [--label stable]
//       a pricing policy as a servable version (tasks/pricing/pricing_serving.h); the forecast
//       policy's demand forecast is learned from a simulated history of the city.
#pragma once

#include <string>
#include <vector>

namespace bimride::tasks::pricing {

int RunMarket(const std::vector<std::string>& args);
int RunEvalPricing(const std::vector<std::string>& args);
int RunTrainPricing(const std::vector<std::string>& args);

}  // namespace bimride::tasks::pricing
