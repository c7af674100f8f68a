#include "tasks/task.h"

#include <algorithm>

namespace bimride::tasks {
namespace {

std::vector<Task>& Tasks() {
  static auto* tasks = new std::vector<Task>();
  return *tasks;
}

}  // namespace

bool RegisterTask(Task task) {
  for (const TaskVerb& v : task.verbs) {
    if (v.verb.empty()) {
      cli::RegisterCommand(v.command.c_str(), v.summary.c_str(), v.run);
    } else {
      cli::RegisterVerb(v.command.c_str(), v.verb.c_str(), v.summary.c_str(), v.run);
    }
  }
  for (const TaskFeatureSpec& spec : task.feature_specs) {
    serving::RegisterFeatureAdapterFactory(spec.name, spec.factory);
    if (!spec.optional_fields.empty()) {
      serving::RegisterOptionalRawFields(spec.name, spec.optional_fields);
    }
  }
  for (const TaskOnlineEvent& e : task.online_events) {
    serving::RegisterOnlineEventRecorder(e.kind, e.record);
  }
  std::vector<Task>& tasks = Tasks();
  tasks.erase(std::remove_if(tasks.begin(), tasks.end(),
                             [&](const Task& t) { return t.name == task.name; }),
              tasks.end());
  tasks.push_back(std::move(task));
  std::sort(tasks.begin(), tasks.end(),
            [](const Task& a, const Task& b) { return a.name < b.name; });
  return true;
}

const std::vector<Task>& RegisteredTasks() { return Tasks(); }

const Task* FindTask(const std::string& name) {
  for (const Task& t : Tasks()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace bimride::tasks
