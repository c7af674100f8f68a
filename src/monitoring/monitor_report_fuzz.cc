// libFuzzer target over what `bimride monitor status|report` read from a server's GET
// /v1/monitor (monitor_report.h): the tables and both report formats, charts drawn. Built only
// with -DBIMRIDE_FUZZ=ON under clang; scripts/fuzz runs it. Whatever the answer, the result is
// a report or an InvalidArgument, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "monitoring/monitor_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view answer(reinterpret_cast<const char*>(data), size);
  using bimride::monitoring::ReportFormat;
  auto tables = bimride::monitoring::MonitorTablesFromJson(answer, "fuzz");
  auto html = bimride::monitoring::RenderMonitorReport(answer, "fuzz", ReportFormat::kHtml);
  auto md = bimride::monitoring::RenderMonitorReport(answer, "fuzz", ReportFormat::kMarkdown,
                                                     true, "c/");
  // The three read the same checks: all accept or all refuse.
  if (tables.ok() != html.ok() || html.ok() != md.ok()) __builtin_trap();
  if (html.ok() && (html->text.empty() || !html->charts.empty())) __builtin_trap();
  return 0;
}
