// `bimride backtest TASK …`: evaluates a task's models on held-out time (rolling origin). Each
// task registers its verb in its own file (cmd_demand.cc: `backtest demand`) with BIMRIDE_VERB.
#include "cli/command.h"

namespace bimride::cli {
namespace {

int RunBacktest(const std::vector<std::string>& args) {
  return DispatchVerbs("bimride backtest",
                       "Backtest a task's models on held-out time (runs are tracked).",
                       RegisteredVerbs("backtest"), args);
}

}  // namespace

BIMRIDE_COMMAND("backtest", "backtest a task's models on held-out time (demand, …)", RunBacktest);

}  // namespace bimride::cli
