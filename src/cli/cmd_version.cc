#include <cstdio>

#include "cli/command.h"
#include "common/version.h"

namespace bimride::cli {
namespace {

int RunVersion(const std::vector<std::string>& args) {
  FlagParser flags("bimride version", "Print the version of bimride.");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;
  std::printf("bimride %s\n", kVersion);
  return kExitOk;
}

}  // namespace

BIMRIDE_COMMAND("version", "print the version", RunVersion);

}  // namespace bimride::cli
