#include "cli/command.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace bimride::cli {
namespace {

std::vector<CommandInfo>& Registry() {
  static std::vector<CommandInfo> registry;
  return registry;
}

std::vector<std::pair<std::string, CommandInfo>>& VerbRegistry() {
  static std::vector<std::pair<std::string, CommandInfo>> registry;
  return registry;
}

}  // namespace

bool RegisterVerb(const char* command, const char* verb, const char* summary, CommandFn fn) {
  VerbRegistry().push_back({command, {verb, summary, fn}});
  return true;
}

std::vector<CommandInfo> RegisteredVerbs(const std::string& command) {
  std::vector<CommandInfo> out;
  for (const auto& [cmd, info] : VerbRegistry()) {
    if (cmd == command) out.push_back(info);
  }
  std::sort(out.begin(), out.end(),
            [](const CommandInfo& a, const CommandInfo& b) { return a.name < b.name; });
  return out;
}

bool RegisterCommand(const char* name, const char* summary, CommandFn fn) {
  Registry().push_back({name, summary, fn});
  return true;
}

std::vector<CommandInfo> Commands() {
  std::vector<CommandInfo> out = Registry();
  std::sort(out.begin(), out.end(),
            [](const CommandInfo& a, const CommandInfo& b) { return a.name < b.name; });
  return out;
}

int ParseFlagsOrExit(FlagParser& flags, const std::vector<std::string>& args) {
  Status st = flags.Parse(args);
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", flags.command().c_str(), st.message().c_str());
    return kExitUsage;
  }
  if (flags.help_requested()) {
    std::cout << flags.Help();
    return kExitOk;
  }
  return -1;
}

int ReportError(const Status& status, bool usage) {
  std::fprintf(stderr, "bimride: %s\n", status.message().c_str());
  return usage ? kExitUsage : kExitFailure;
}

int DispatchVerbs(const std::string& command, const std::string& summary,
                  const std::vector<CommandInfo>& verbs, const std::vector<std::string>& args) {
  auto print_help = [&](std::FILE* out) {
    std::fprintf(out, "usage: %s VERB [options]\n\n%s\n\nverbs:\n", command.c_str(),
                 summary.c_str());
    for (const CommandInfo& v : verbs) {
      std::fprintf(out, "  %-12s %s\n", v.name.c_str(), v.summary.c_str());
    }
    std::fprintf(out, "\nRun '%s VERB --help' for a verb's options.\n", command.c_str());
  };
  if (args.empty()) {
    std::fprintf(stderr, "%s: missing verb\n", command.c_str());
    print_help(stderr);
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help(stdout);
    return kExitOk;
  }
  for (const CommandInfo& v : verbs) {
    if (v.name == args[0]) {
      return v.fn(std::vector<std::string>(args.begin() + 1, args.end()));
    }
  }
  std::fprintf(stderr, "%s: unknown verb '%s' (see %s --help)\n", command.c_str(),
               args[0].c_str(), command.c_str());
  return kExitUsage;
}

StatusOr<std::pair<std::string, int>> ParseServerFlag(const std::string& server) {
  std::string s = server;
  if (s.rfind("http://", 0) == 0) s = s.substr(7);
  while (!s.empty() && s.back() == '/') s.pop_back();
  const size_t colon = s.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      std::sscanf(s.c_str() + colon + 1, "%d", &port) != 1 || port <= 0 || port > 65535) {
    return InvalidArgumentError("--server '" + server + "': expected HOST:PORT");
  }
  return std::make_pair(s.substr(0, colon), port);
}

}  // namespace bimride::cli
