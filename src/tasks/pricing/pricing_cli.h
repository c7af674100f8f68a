// The pricing task's commands, registered by pricing_task.cc. Thin: flags → library calls.
//
//   bimride market [--days 14] [--zones 40] [--seed 1] [--policy static|ratio|forecast] …
//       simulates the marketplace under one pricing policy and prints riders', drivers' and
//       revenue figures (and, with --intervals-csv, the 5-minute series).
#pragma once

#include <string>
#include <vector>

namespace bimride::tasks::pricing {

int RunMarket(const std::vector<std::string>& args);

}  // namespace bimride::tasks::pricing
