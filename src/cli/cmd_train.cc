// `bimride train TASK …`: trains a model for a task. Each task registers its own verb in its
// own file (cmd_eta.cc: `train eta`, cmd_demand.cc: `train demand`) with BIMRIDE_VERB.
#include "cli/command.h"

namespace bimride::cli {
namespace {

int RunTrain(const std::vector<std::string>& args) {
  return DispatchVerbs("bimride train", "Train a model for a task (runs are tracked).",
                       RegisteredVerbs("train"), args);
}

}  // namespace

BIMRIDE_COMMAND("train", "train a model for a task (eta, demand, …)", RunTrain);

}  // namespace bimride::cli
