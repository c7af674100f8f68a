#include "bench/frameworks/frameworks_report.h"

#include <gtest/gtest.h>

#include <cmath>

namespace bimride::bench {
namespace {

FrameworksReport SmallReport() {
  FrameworksReport r;
  r.command = "bimride bench frameworks --quick";
  r.generated_at = "2026-12-03 16:00 UTC";
  r.mode = "quick";
  r.machine = "a CPU <with> 2 cores";
  r.answer = {"PyTorch."};
  WorkloadFigures w;
  w.name = "eta";
  w.description = "rows";
  w.target = "trip minutes";
  EngineFigures lt{"LibTorch eager (C++)", "PyTorch", "", "1.13", ""};
  lt.train_samples_per_s = 200000;
  lt.valid_mae = 4.25;
  lt.train_seconds = 1.1;
  lt.peak_rss_mb = 300;
  EngineFigures tf{"TensorFlow.js 4.22 (WASM)", "TensorFlow", "", "", "node: not found"};
  w.mlp_training = {lt, tf};
  EngineFigures mlp{"native_mlp (ours)", "ours", "MLP", "native_mlp", ""};
  mlp.b1_rows_per_s = 400000;
  mlp.b256_rows_per_s = 500000;
  mlp.cold_start_ms = 120;
  mlp.peak_rss_mb = 200;
  mlp.model_bytes = 2048;
  EngineFigures ts = mlp;
  ts.engine = "TorchScript (LibTorch C++)";
  ts.family = "PyTorch";
  ts.b1_rows_per_s = 15000;
  w.inference = {mlp, ts};
  r.workloads = {w};
  return r;
}

TEST(FrameworksReportTest, FormatsFiguresWithThousandsAndDashForMissing) {
  EXPECT_EQ(FormatFigure(1234567.8), "1,234,568");
  EXPECT_EQ(FormatFigure(999), "999");
  EXPECT_EQ(FormatFigure(4.256, 2), "4.26");
  EXPECT_EQ(FormatFigure(-12345.0), "-12,345");
  EXPECT_EQ(FormatFigure(std::nan("")), "–");
}

TEST(FrameworksReportTest, MarkdownFillsEveryRowOrSaysWhyNot) {
  const std::string md = RenderFrameworksMarkdown(SmallReport());
  EXPECT_NE(md.find("| LibTorch eager (C++) | 1.13 | 200,000 | 1.00× | 4.250 | 1.1 | 300 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| TensorFlow.js 4.22 (WASM) | not available: node: not found |"),
            std::string::npos)
      << md;
  // Batch 1 µs/row is derived from rows/s; model size in KB.
  EXPECT_NE(md.find("| native_mlp (ours) | MLP | 400,000 | 2.5 | 500,000 | 120 | 200 | 2.0 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("`bimride bench frameworks --quick`"), std::string::npos);
}

TEST(FrameworksReportTest, HtmlHasInlineSvgChartsAndNoScript) {
  const std::string html = RenderFrameworksHtml(SmallReport());
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://") == std::string::npos ||
                html.find("http://www.w3.org/2000/svg") != std::string::npos,
            true);
  EXPECT_NE(html.find("a CPU &lt;with&gt; 2 cores"), std::string::npos);  // escaped
  // The unavailable engine has no bar; the two inference engines have bars (b1 chart).
  EXPECT_EQ(html.find(">TensorFlow.js 4.22 (WASM)</text>"), std::string::npos);
  EXPECT_NE(html.find(">TorchScript (LibTorch C++)</text>"), std::string::npos);
  // 400,000 vs 15,000 spans more than 20×: the batch 1 chart is on a log scale.
  EXPECT_NE(html.find("batch 1 rows/s (log scale)"), std::string::npos);
}

}  // namespace
}  // namespace bimride::bench
