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
  // After the first rank fails, the others get this long to stop on their own (a rank whose
  // peer died notices at its next collective and says which rank it lost) before they are sent
  // SIGTERM, then 2 s later SIGKILL. A rank still running then is named as hung.
  double grace_seconds = 3;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  // 0: FreeLocalPort()
};

// Why a launched job failed: the rank to blame and what happened to it.
struct LaunchFailure {
  int rank = -1;     // -1: every rank exited 0
  std::string what;  // e.g. "was killed by signal 9 (Killed) (last progress: step 9, …)"
  double stop_seconds = 0;  // from the first failure until the last rank was gone
};

// Runs `argv` (argv[0] = the program; "/proc/self/exe" re-runs this binary) as `nproc` child
// processes with RANK/LOCAL_RANK = 0..nproc-1, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set and
// OMP_NUM_THREADS=1 if unset (as torchrun). Children die with the launcher (PR_SET_PDEATHSIG).
// Each child may report its progress through ReportProgressToLauncher (a datagram socket whose
// descriptor is in BIMRIDE_LAUNCH_PROGRESS_FD). Waits for all of them: no orphans.
// Returns 0 when every rank exited 0, else the exit code (128 + signal for a signal) of the
// first rank killed by a signal the launcher did not send, or else of the first rank that
// failed. The rank blamed, printed and stored in `*failure`, is the first one
// killed by a signal the launcher did not send; else a rank that was still running when the
// grace after the first failure ran out (hung: it neither progressed nor noticed the failure),
// with its last reported progress; else the first rank that failed.
int RunLocalRanks(const std::vector<std::string>& argv, const LocalLaunchOptions& options,
                  LaunchFailure* failure = nullptr);

// In a rank started by RunLocalRanks: tells the launcher that this rank has completed `step`
// steps (rounds, batches), so that a failure report can say how far each rank got. Never
// blocks, never fails: outside such a launch (one process, torchrun) it does nothing.
void ReportProgressToLauncher(int64_t step);

// Test hook shared by the trainers' distributed paths: BIMRIDE_FAULT="RANK:STEP:exit|kill|hang"
// makes that rank exit with code 3, SIGKILL itself or hang forever when it reaches that step.
void MaybeInjectFault(int rank, int64_t step);

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
//   --checkpoint-every K steps (torch) or rounds (xgboost) between checkpoints
struct DistributedFlags {
  int64_t nproc = 1;
  double timeout_seconds = 60;
  std::string checkpoint_dir;
  int64_t checkpoint_every = 0;
  void Add(FlagParser& flags);
  // >= 0: this process launched the ranks and this is the job's exit code (return it); -1:
  // this process trains (one process, or a rank). Bad flags or environment: an error. The
  // launched ranks get min(3 s, --dist-timeout) after the first failure to stop by themselves.
  StatusOr<int> MaybeLaunch() const;
  // The rank's options from the environment (world size 1 without torchrun variables), and
  // the checkpoint settings copied into `options`.
  Status Apply(TrainerOptions* options) const;
};

}  // namespace bimride::train
