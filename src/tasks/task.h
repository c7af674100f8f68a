// A task is one folder (src/tasks/<task>/) that owns everything about one marketplace problem:
// its dataset, training, evaluation, publish step, the feature spec the server uses for its
// models, and its command-line verbs. It registers all of that with one line, beside its code:
//
//   BIMRIDE_TASK(MakeEtaTask());   // in src/tasks/eta/eta_task.cc
//
// and nothing elsewhere names it: `bimride` links every task's registration library whole
// (the INTERFACE target bimride_tasks, as bimride_model_backends does for backends), so
// `bimride train eta`, `bimride serve` (the server finds "eta_booking" through the feature
// adapter registry) and `bimride quickstart` (which runs every task's quickstart step) pick a
// task up from the link line alone. docs/architecture.md has the recipe.
// Thread safety: registration runs during static initialisation; lookups after it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/status.h"
#include "data/trip_table.h"
#include "serving/feature_adapter.h"

namespace bimride::tasks {

// A verb the task adds to a top-level command, `bimride <command> <verb>`; or, with an empty
// verb, a top-level command of the task's own (`bimride forecast`).
struct TaskVerb {
  std::string command;  // "train", "eval", "backtest", … or the task's own command
  std::string verb;     // usually the task's name; empty for a command of its own
  std::string summary;
  cli::CommandFn run;
};

// A feature spec the task's models name in their manifests (feature_spec.name): the server
// builds each loaded version's FeatureAdapter with `factory`, from the version folder.
struct TaskFeatureSpec {
  std::string name;  // "eta_booking"; "name@version" for one spec version only
  serving::FeatureAdapterFactory factory;
  // Request fields the adapter can do without (serving::RegisterOptionalRawFields).
  std::vector<std::string> optional_fields;
};

// Live events the task records into the server's online store (POST /v1/online/<kind>).
struct TaskOnlineEvent {
  std::string kind;  // "pickups"
  serving::OnlineEventRecorder record;
};

// What `bimride quickstart` hands a task: the simulated city's trips and where to work.
struct QuickstartInput {
  const data::TripTable* trips = nullptr;  // the simulated city, read back from its files
  std::string trips_path;                  // the file they were read from (fingerprinted)
  std::string repo;                        // the model repository to publish into
  std::string work_dir;                    // a folder of the task's own
  int threads = 2;
  int rounds = 300;  // the most boosting rounds / epochs a quick model may take
};
// What the task's quickstart step gives back: a published model labelled `stable`, and one
// request a client would send for it (a TF Serving REST predict body).
struct QuickstartModel {
  std::string model_name;
  std::string request_body;
  std::string expected;  // what the answer should be close to, in words ("the trip took 7.2 min")
};
using QuickstartFn = std::function<StatusOr<QuickstartModel>(const QuickstartInput& input)>;

struct Task {
  std::string name;     // "eta"
  std::string summary;  // one line
  std::vector<TaskVerb> verbs;
  std::vector<TaskFeatureSpec> feature_specs;
  std::vector<TaskOnlineEvent> online_events;
  QuickstartFn quickstart;  // may be empty: the task has no quickstart step
};

// Registers the task, its verbs (cli::RegisterVerb), its feature specs
// (serving::RegisterFeatureAdapterFactory) and online event kinds. Returns true (for static registration).
bool RegisterTask(Task task);
// Every registered task, sorted by name.
const std::vector<Task>& RegisteredTasks();
// The task named `name`, or nullptr.
const Task* FindTask(const std::string& name);

}  // namespace bimride::tasks

#define BIMRIDE_TASK(make_task)                                                           \
  static const bool BIMRIDE_CONCAT(bimride_task_registered_, __LINE__) [[maybe_unused]] = \
      ::bimride::tasks::RegisterTask(make_task)
