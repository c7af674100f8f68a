// FlagParser: the one argument parser every `bimride` subcommand uses, so --help, usage errors
// and exit codes behave the same everywhere.
//
//   FlagParser flags("bimride simulate", "Simulate a city's trips.");
//   int64_t days = 7;  flags.AddInt("days", &days, "number of days to simulate");
//   std::string out;   flags.AddString("out", &out, "output file", /*required=*/true);
//   Status s = flags.Parse(args);   // InvalidArgument on bad usage; help_requested() on --help
//
// Accepts `--name value` and `--name=value`; bool flags take no value (`--verbose`) or
// `--verbose=false`. List flags take every following value up to the next `--flag`.
// Not thread-safe; use one parser per call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride {

class FlagParser {
 public:
  FlagParser(std::string command, std::string description);

  void AddString(std::string name, std::string* out, std::string help, bool required = false);
  void AddInt(std::string name, int64_t* out, std::string help, bool required = false);
  void AddDouble(std::string name, double* out, std::string help, bool required = false);
  void AddBool(std::string name, bool* out, std::string help);
  // Repeatable list: `--train a.parquet b.parquet` or `--train a --train b`.
  void AddStringList(std::string name, std::vector<std::string>* out, std::string help,
                     bool required = false);
  // Positional arguments, in order; `min`..`max` of them (max < 0: unbounded).
  void SetPositional(std::string name, std::vector<std::string>* out, std::string help,
                     int min = 0, int max = -1);

  // Help shows "(default: TEXT)" for flag `name` instead of its initial value: for a default that
  // is chosen later (a -1 sentinel meaning "the model's tuned value") or comes from the
  // environment. A help text that already says "(default …" in words shows no second default.
  void SetDefaultText(const std::string& name, std::string text);

  Status Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_requested_; }
  std::string Help() const;
  const std::string& command() const { return command_; }
  // True when the flag was given on the command line (not merely defaulted).
  bool WasSet(const std::string& name) const;

 private:
  enum class Kind { kString, kInt, kDouble, kBool, kStringList };
  struct Flag {
    std::string name;
    Kind kind;
    void* out;
    std::string help;
    bool required;
    bool seen = false;
    std::string default_text;
  };
  Flag* Find(const std::string& name);
  Status Assign(Flag& flag, const std::string& value);

  std::string command_;
  std::string description_;
  std::vector<Flag> flags_;
  std::string positional_name_;
  std::vector<std::string>* positional_ = nullptr;
  std::string positional_help_;
  int positional_min_ = 0;
  int positional_max_ = 0;
  bool help_requested_ = false;
};

}  // namespace bimride
