// `bimride eval TASK …`: evaluates a trained model of a task on trip files. Each task registers
// its own verb in its own file (cmd_eta.cc: `eval eta`) with BIMRIDE_VERB.
#include "cli/command.h"

namespace bimride::cli {
namespace {

int RunEval(const std::vector<std::string>& args) {
  return DispatchVerbs("bimride eval", "Evaluate a trained model of a task on trip files.",
                       RegisteredVerbs("eval"), args);
}

}  // namespace

BIMRIDE_COMMAND("eval", "evaluate a trained model of a task (eta, …) on trip files", RunEval);

}  // namespace bimride::cli
