#include "registry/text_table.h"

#include <gtest/gtest.h>

namespace bimride::registry {
namespace {

TEST(TextTableTest, AlignsColumnsAndTrimsTrailingSpace) {
  TextTable t({"VERSION", "LABELS", "BACKEND"});
  t.SetRightAligned(0);
  t.AddRow({"12", "stable,canary", "xgboost"});
  t.AddRow({"3", "", "torchscript"});
  EXPECT_EQ(t.Render(),
            "VERSION  LABELS         BACKEND\n"
            "     12  stable,canary  xgboost\n"
            "      3  -              torchscript\n");
}

TEST(TextTableTest, PadsShortRowsAndCountsUtf8AsOneColumn) {
  TextTable t({"A", "B"});
  t.AddRow({"é"});
  t.AddRow({"xx", "y"});
  EXPECT_EQ(t.Render(), "A   B\né   -\nxx  y\n");
}

}  // namespace
}  // namespace bimride::registry
