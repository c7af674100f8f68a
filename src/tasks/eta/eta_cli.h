// The ETA task's command-line verbs, registered by eta_task.cc:
//   bimride train eta   train a trip-duration model (a baseline or any trainer kind), track the
//                       run and publish the model to the registry;
//   bimride eval eta    evaluate model folders on trip files.
// Thin: flags, then tasks::eta calls. Return the process exit code (cli/command.h).
#pragma once

#include <string>
#include <vector>

namespace bimride::tasks::eta {

int RunTrainEta(const std::vector<std::string>& args);
int RunEvalEta(const std::vector<std::string>& args);

}  // namespace bimride::tasks::eta
