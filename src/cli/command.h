// The `bimride` command registry. Each subcommand lives in its own cmd_<name>.cc and registers
// itself with one line:
//
//   BIMRIDE_COMMAND("simulate", "simulate a city's trips", RunSimulate);
//
// A command gets its arguments (after its name) and returns the process exit code:
// 0 success, 1 failure (one line on stderr naming the input and the problem), 2 bad usage.
// Commands are thin: they parse flags and call library functions; no logic lives here.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/flags.h"
#include "common/status.h"

namespace bimride::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

using CommandFn = int (*)(const std::vector<std::string>& args);

struct CommandInfo {
  std::string name;
  std::string summary;
  CommandFn fn;
};

bool RegisterCommand(const char* name, const char* summary, CommandFn fn);
// Sorted by name.
std::vector<CommandInfo> Commands();

// Parses `args` into `flags`. Returns -1 when the command should go on; otherwise the exit code
// to return at once (0 after printing --help to stdout, 2 after printing a usage error).
int ParseFlagsOrExit(FlagParser& flags, const std::vector<std::string>& args);

// Prints "bimride: <status message>" on one line to stderr; returns kExitFailure (kExitUsage
// for kInvalidArgument errors that concern the command line itself when `usage` is true).
int ReportError(const Status& status, bool usage = false);

// A --server flag's value ("HOST:PORT", "http://HOST:PORT/") as host and port; InvalidArgument
// naming the value otherwise. For the commands that talk to a running model server.
StatusOr<std::pair<std::string, int>> ParseServerFlag(const std::string& server);

// For commands with verbs (`bimride data inspect …`, `bimride models list`): runs the verb
// named by args[0] with the rest; prints the verb list for --help or no verb.
int DispatchVerbs(const std::string& command, const std::string& summary,
                  const std::vector<CommandInfo>& verbs, const std::vector<std::string>& args);

// Verbs that other files add to a command, so each task keeps its verbs in its own file:
// cmd_eta.cc registers `train eta` and `eval eta`, cmd_demand.cc `train demand`, …
//
//   BIMRIDE_VERB("train", "eta", "train an ETA model", RunTrainEta);
bool RegisterVerb(const char* command, const char* verb, const char* summary, CommandFn fn);
// The verbs registered for `command`, sorted by name.
std::vector<CommandInfo> RegisteredVerbs(const std::string& command);

}  // namespace bimride::cli

#define BIMRIDE_COMMAND(name, summary, fn)                                            \
  static const bool BIMRIDE_CONCAT(bimride_command_registered_, __LINE__) [[maybe_unused]] = \
      ::bimride::cli::RegisterCommand(name, summary, fn)

#define BIMRIDE_VERB(command, verb, summary, fn)                                          \
  static const bool BIMRIDE_CONCAT(bimride_verb_registered_, __LINE__) [[maybe_unused]] = \
      ::bimride::cli::RegisterVerb(command, verb, summary, fn)
