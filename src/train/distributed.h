// Launching data-parallel training: reading torchrun's environment into DistributedOptions, and
// `--nproc N` (one machine): re-running this very command as N local ranks with that same
// environment, the way `torchrun --standalone --nproc_per_node N --no_python` would.
//
// The ranks then meet through c10d's TCPStore at MASTER_ADDR:MASTER_PORT (hosted by rank 0) and
// train with ProcessGroupGloo — see models/torch/data_parallel.h and docs/distributed.md.
#pragma once

#include <string>
#include <vector>

#include "common/flags.h"
#include "common/status.h"
#include "train/trainer.h"

namespace bimride::train {

// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. None set: one process (world size 1).
// Some set but not the rest, or a value that is not a number in range: InvalidArgument naming
// the variable. `timeout_seconds` is copied into the result.
StatusOr<DistributedOptions> DistributedFromEnv(double timeout_seconds = 60);

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close).
StatusOr<int> FreeLocalPort();

struct LocalLaunchOptions {
  int nproc = 2;
  // After the first rank fails, the others get this long to stop on their own (they notice
  // through their collectives' timeout) before they are sent SIGTERM, then SIGKILL.
  double grace_seconds = 70;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  // 0: FreeLocalPort()
};

// Runs `argv` (argv[0] = the program; "/proc/self/exe" re-runs this binary) as `nproc` child
// processes with RANK/LOCAL_RANK = 0..nproc-1, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set and
// OMP_NUM_THREADS=1 if unset (as torchrun). Children die with the launcher (PR_SET_PDEATHSIG).
// Waits for all of them: no orphans. Returns 0 when every rank exited 0, else the exit code of
// the first rank that failed (128 + signal for a signal), after printing which rank it was.
int RunLocalRanks(const std::vector<std::string>& argv, const LocalLaunchOptions& options);

// The command line of this process (/proc/self/cmdline) with `--nproc N` / `--nproc=N` removed
// and argv[0] replaced by /proc/self/exe: what RunLocalRanks re-runs.
StatusOr<std::vector<std::string>> SelfCommandWithoutNproc();

// XGBoost's own tracker (python3-xgboost's xgboost.tracker.RabitTracker) for `world` workers,
// listening on host:port, ranks assigned by task id (workers pass their rank, zero-padded).
// Returns its pid; it exits by itself when every worker has finalised its communicator.
StatusOr<int> StartRabitTracker(const std::string& host, int port, int world);
// Waits up to `timeout_seconds` for the tracker to exit, then kills it; always reaps it.
void StopRabitTracker(int pid, double timeout_seconds);

// The flags every `bimride train <task>` verb takes for data-parallel training:
//   --nproc N            run N local ranks of this command (ignored inside a rank: RANK set)
//   --dist-timeout S     collective / rendezvous timeout, seconds
//   --checkpoint-dir D   rank 0's checkpoints (resume from there on restart)
//   --checkpoint-every K steps between checkpoints
struct DistributedFlags {
  int64_t nproc = 1;
  double timeout_seconds = 60;
  std::string checkpoint_dir;
  int64_t checkpoint_every = 0;
  void Add(FlagParser& flags);
  // >= 0: this process launched the ranks and this is the job's exit code (return it); -1:
  // this process trains (one process, or a rank). Bad flags or environment: an error.
  StatusOr<int> MaybeLaunch() const;
  // The rank's options from the environment (world size 1 without torchrun variables), and
  // the checkpoint settings copied into `options`.
  Status Apply(TrainerOptions* options) const;
};

}  // namespace bimride::train
