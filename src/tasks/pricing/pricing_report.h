// The pricing study behind results/pricing.md (`bimride eval pricing`): the tariff fitted to
// real green fares; every policy (static, ratio surge, forecast-driven) over `days` simulated
// days × each seed, with 95% intervals and paired differences (the policies of one seed see
// the same riders); the surge-outage scenario at each seed's biggest demand spike; the
// simulator against reality (hourly shape vs green and Uber pickups, trip length vs green);
// and the pictures (surge map, time series) as SVG files beside the report.
// What can fail: the data files (named in the error), a bad option (InvalidArgument).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::tasks::pricing {

struct PricingStudyOptions {
  std::vector<uint64_t> seeds = {1, 2, 3, 4, 5};
  int64_t days = 14;
  int64_t zones = 40;
  int64_t history_days = 14;
  std::vector<std::string> green_files;              // fares, hourly shape, trip lengths
  std::string uber_file;                             // hourly shape (empty: skipped)
  std::string svg_dir;                               // where the pictures go
  std::string svg_link_prefix;                       // how the report links them (relative path)
  std::string command_line;                          // quoted in the report
  std::function<void(const std::string&)> progress;  // may be empty
};

// The report's markdown; writes the SVG files into svg_dir.
StatusOr<std::string> RunPricingStudy(const PricingStudyOptions& options);

}  // namespace bimride::tasks::pricing
