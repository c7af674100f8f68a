// bimride: the command-line entry point. Dispatches to the registered subcommands.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/version.h"

namespace {

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: bimride COMMAND [options]\n\n"
               "BimRide ML: trip data, models for the ride-hailing marketplace, and a model "
               "server.\n\ncommands:\n");
  for (const auto& c : bimride::cli::Commands()) {
    std::fprintf(out, "  %-12s %s\n", c.name.c_str(), c.summary.c_str());
  }
  std::fprintf(out, "\nRun 'bimride COMMAND --help' for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return bimride::cli::kExitUsage;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(stdout);
    return bimride::cli::kExitOk;
  }
  if (name == "--version") {
    std::printf("bimride %s\n", bimride::kVersion);
    return bimride::cli::kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& c : bimride::cli::Commands()) {
    if (c.name == name) return c.fn(args);
  }
  std::fprintf(stderr, "bimride: unknown command '%s' (see bimride --help)\n", name.c_str());
  return bimride::cli::kExitUsage;
}
