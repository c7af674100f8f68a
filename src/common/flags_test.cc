#include "common/flags.h"

#include <gtest/gtest.h>

namespace bimride {
namespace {

struct Parsed {
  std::string out;
  int64_t days = 7;
  double rate = 1.5;
  bool verbose = false;
  std::vector<std::string> files;
  std::vector<std::string> positional;
};

Status ParseInto(Parsed& p, const std::vector<std::string>& args, FlagParser** keep = nullptr) {
  static FlagParser* last = nullptr;
  delete last;
  last = new FlagParser("bimride test", "A test command.");
  last->AddString("out", &p.out, "output", /*required=*/true);
  last->AddInt("days", &p.days, "days");
  last->AddDouble("rate", &p.rate, "rate");
  last->AddBool("verbose", &p.verbose, "verbose");
  last->AddStringList("train", &p.files, "training files");
  last->SetPositional("FILE...", &p.positional, "inputs", 0, 2);
  if (keep) *keep = last;
  return last->Parse(args);
}

TEST(FlagParserTest, ParsesEveryKindInBothSpellings) {
  Parsed p;
  ASSERT_TRUE(ParseInto(p, {"--out", "x.csv", "--days=3", "--rate", "2.5", "--verbose", "--train",
                            "a", "b", "in1"})
                  .ok());
  EXPECT_EQ(p.out, "x.csv");
  EXPECT_EQ(p.days, 3);
  EXPECT_DOUBLE_EQ(p.rate, 2.5);
  EXPECT_TRUE(p.verbose);
  EXPECT_EQ(p.files, (std::vector<std::string>{"a", "b", "in1"}))
      << "list flags take values up to the next --flag";
  EXPECT_TRUE(p.positional.empty());
}

TEST(FlagParserTest, PositionalAfterFlags) {
  Parsed p;
  ASSERT_TRUE(ParseInto(p, {"in1", "--out=o", "in2"}).ok());
  EXPECT_EQ(p.positional, (std::vector<std::string>{"in1", "in2"}));
}

TEST(FlagParserTest, RejectsBadUsageWithClearMessages) {
  Parsed p;
  Status s = ParseInto(p, {"--days", "3"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("missing required option --out"), std::string::npos);
  s = ParseInto(p, {"--out", "o", "--days", "three"});
  EXPECT_NE(s.message().find("--days: 'three' is not an integer"), std::string::npos);
  s = ParseInto(p, {"--out", "o", "--nope"});
  EXPECT_NE(s.message().find("unknown option '--nope'"), std::string::npos);
  s = ParseInto(p, {"--out"});
  EXPECT_NE(s.message().find("--out: needs a value"), std::string::npos);
  s = ParseInto(p, {"--out", "o", "a", "b", "c"});
  EXPECT_NE(s.message().find("too many arguments: 'c'"), std::string::npos);
  s = ParseInto(p, {"--out", "o", "--rate", "nan"});
  EXPECT_FALSE(s.ok());
}

TEST(FlagParserTest, HelpIsRequestedAndListsOptions) {
  Parsed p;
  FlagParser* parser = nullptr;
  ASSERT_TRUE(ParseInto(p, {"--help"}, &parser).ok());
  EXPECT_TRUE(parser->help_requested());
  std::string help = parser->Help();
  EXPECT_NE(help.find("--out TEXT"), std::string::npos);
  EXPECT_NE(help.find("(required)"), std::string::npos);
  EXPECT_NE(help.find("(default: 7)"), std::string::npos);
}

TEST(FlagParserTest, NegativeNumbersArePositionalNotOptions) {
  Parsed p;
  ASSERT_TRUE(ParseInto(p, {"--out", "o", "-73.9"}).ok());
  EXPECT_EQ(p.positional, (std::vector<std::string>{"-73.9"}));
}

TEST(FlagParserTest, HelpShowsDefaultsInWordsWhereTheValueIsChosenLater) {
  int64_t depth = -1;
  std::string repo = "/build/machine/model_repo";
  double huber = -1;
  FlagParser flags("bimride test", "A test command.");
  flags.AddInt("max-depth", &depth, "tree depth");
  flags.AddString("repo", &repo, "registry (default $BIMRIDE_MODEL_REPO, else ./model_repo)");
  flags.AddDouble("huber", &huber, "Huber delta");
  flags.SetDefaultText("max-depth", "the model's tuned value");
  flags.SetDefaultText("huber", "MSE loss");
  const std::string help = flags.Help();
  EXPECT_NE(help.find("tree depth (default: the model's tuned value)"), std::string::npos) << help;
  EXPECT_NE(help.find("Huber delta (default: MSE loss)"), std::string::npos) << help;
  EXPECT_NE(help.find("(default $BIMRIDE_MODEL_REPO, else ./model_repo)\n"), std::string::npos)
      << help;
  EXPECT_EQ(help.find("-1"), std::string::npos) << help;
  EXPECT_EQ(help.find("/build/machine"), std::string::npos) << help;
}

}  // namespace
}  // namespace bimride
