// The model server as the serving benchmark runs it: `bimride serve`'s ModelServer plus the
// test-only linear backend (y = x·[1, 2, 3] + 0.5), because no production backend
// (native_mlp / torchscript) is on main yet. Creates its own repository in a temp folder.
//
//   serving_bench_server [--port 18082] [--io-threads 1] [--max-batch-size 0]
//                        [--max-queue-delay-us 200]
// Prints "listening on 127.0.0.1:PORT"; on SIGINT/SIGTERM prints the server's own latency
// histograms (p50/p90/p99 of total, compute, overhead; batch sizes) and exits.
#include <csignal>
#include <cstdio>

#include "common/flags.h"
#include "serving/http/model_server.h"
#include "serving/testing/test_models.h"

using namespace bimride;
using namespace bimride::serving;

int main(int argc, char** argv) {
  FlagParser flags("serving_bench_server", "Model server with the benchmark model.");
  int64_t port = 18082, io_threads = 1, max_batch = 0, delay_us = 200;
  flags.AddInt("port", &port, "port");
  flags.AddInt("io-threads", &io_threads, "HTTP I/O threads");
  flags.AddInt("max-batch-size", &max_batch, "dynamic batching (0: off)");
  flags.AddInt("max-queue-delay-us", &delay_us, "batcher delay");
  Status st = flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!st.ok() || flags.help_requested()) {
    std::fprintf(stderr, "%s\n%s", st.message().c_str(), flags.Help().c_str());
    return 2;
  }
  testing::RegisterTestBackendAndFeatures();
  ServerConfig config;
  config.model_repo = testing::MakeTempDir("serving_bench_repo");
  testing::TestVersionOptions model;
  model.weights = {{1, 2, 3}};
  model.bias = {0.5f};
  model.output_names = {"eta_seconds"};
  st = testing::WriteTestVersion(config.model_repo, "eta", 1, model);
  if (!st.ok()) return std::fprintf(stderr, "%s\n", st.ToString().c_str()), 1;
  config.port = port;
  config.io_threads = io_threads;
  config.poll_interval_ms = 0;
  config.model_defaults.batching.max_batch_size = max_batch;
  config.model_defaults.batching.max_queue_delay_us = delay_us;
  config.model_defaults.batching.max_queue_size = 100000;
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto server = http::ModelServer::Start(config);
  if (!server.ok()) return std::fprintf(stderr, "%s\n", server.status().ToString().c_str()), 1;
  std::printf("listening on 127.0.0.1:%d\n", (*server)->port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  VersionMetrics* m = (*server)->service().metrics().For("eta", 1);
  auto us = [](const Histogram& h, double q) { return h.Quantile(q) * 1e6; };
  std::printf("requests %llu\n", static_cast<unsigned long long>(m->total_seconds.count()));
  std::printf("total_us    p50<=%g p90<=%g p99<=%g\n", us(m->total_seconds, 0.5),
              us(m->total_seconds, 0.9), us(m->total_seconds, 0.99));
  std::printf("compute_us  p50<=%g p90<=%g p99<=%g\n", us(m->compute_seconds, 0.5),
              us(m->compute_seconds, 0.9), us(m->compute_seconds, 0.99));
  std::printf("queue_us    p50<=%g p90<=%g p99<=%g\n", us(m->queue_seconds, 0.5),
              us(m->queue_seconds, 0.9), us(m->queue_seconds, 0.99));
  std::printf("overhead_us p50<=%g p90<=%g p99<=%g\n", us(m->overhead_seconds, 0.5),
              us(m->overhead_seconds, 0.9), us(m->overhead_seconds, 0.99));
  std::printf("batch_rows  batches %llu p50<=%g p90<=%g max-bucket<=%g\n",
              static_cast<unsigned long long>(m->batch_rows.count()), m->batch_rows.Quantile(0.5),
              m->batch_rows.Quantile(0.9), m->batch_rows.Quantile(1.0));
  std::fflush(stdout);
  (*server)->Shutdown();
  return 0;
}
