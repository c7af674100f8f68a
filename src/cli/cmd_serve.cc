// `bimride serve`: the model server (TF Serving REST + KServe v2) over a model repository.
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "common/config.h"
#include "console/console_handler.h"
#include "serving/grpc/grpc_transport.h"
#include "serving/http/http_transport.h"
#include "serving/server.h"

namespace bimride::cli {
namespace {

// The console's pages as the build lays them out: <folder of the bimride binary>/ui.
std::string DefaultUiDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("ui") : (exe.parent_path() / "ui").string();
}

int RunServe(const std::vector<std::string>& args) {
  FlagParser flags("bimride serve",
                   "Serve the models of a repository (<repo>/<model>/<version>/manifest.json) over "
                   "TF Serving REST (/v1) and KServe v2 (/v2), with /metrics for Prometheus; with "
                   "--grpc-port also over gRPC (KServe v2 GRPCInferenceService and TF Serving "
                   "PredictionService).");
  std::string repo, host = "127.0.0.1", config_path, access_log, prediction_log,
      online_store, ui_dir, ui_data, zones_dir;
  bool no_ui = false;
  int64_t port = 8501, io_threads = 0, poll_ms = -1, window_rows = 0, grpc_port = -1,
          grpc_max_message_bytes = 0;
  flags.AddString("model-repo", &repo, "model repository folder");
  flags.AddString("host", &host, "address to bind (loopback unless told)");
  flags.AddInt("port", &port, "port to listen on; 0 picks a free one (printed on stdout)");
  flags.AddInt("grpc-port", &grpc_port,
               "gRPC port (KServe v2 inference.GRPCInferenceService and TF Serving "
               "tensorflow.serving.PredictionService); 0 picks a free one (printed on stdout)");
  flags.SetDefaultText("grpc-port", "the config file's server.grpc_port, else off");
  flags.AddInt("grpc-max-message-bytes", &grpc_max_message_bytes,
               "largest gRPC request or answer (gRPC's own default is 4 MiB)");
  flags.SetDefaultText("grpc-max-message-bytes",
                       "the config file's server.grpc_max_message_bytes, else 67108864 (64 MiB)");
  flags.AddString("config", &config_path, "JSON config file (server, models: policies, labels, "
                                          "batching, routing)");
  flags.AddInt("io-threads", &io_threads, "HTTP I/O threads (0: one per core)");
  flags.AddInt("poll-interval-ms", &poll_ms, "repository polling interval (0: off)");
  flags.SetDefaultText("poll-interval-ms", "the config file's value, else 1000");
  flags.AddString("access-log", &access_log, "access log: off, stderr or a file path");
  flags.AddString("prediction-log", &prediction_log,
                  "folder for the prediction log (Parquet, every served row; off by default; "
                  "sampling and budgets in the config file's prediction_log); also turns on the "
                  "live monitor: POST /v1/feedback, GET /v1/monitor (docs/monitoring.md)");
  flags.AddString("online-store", &online_store,
                  "live state feature specs read at request time (recent demand, supply): "
                  "memory, or a shared store's URL (config file: online_store.url)");
  flags.SetDefaultText("online-store", "the config file's online_store.url, else memory");
  flags.AddInt("monitor-window-rows", &window_rows,
               "live monitor: predicted rows per window (the drift calibration's window)");
  flags.SetDefaultText("monitor-window-rows", "the config file's monitor.window_rows, else 1000");
  flags.AddString("ui-dir", &ui_dir, "the web console's pages (served at /ui/, read-only)");
  flags.SetDefaultText("ui-dir", "ui/ beside the bimride binary, where the build puts them");
  flags.AddString("ui-data", &ui_data,
                  "folder of <name>.series.json per-zone series for the console's maps "
                  "(bimride console series)");
  flags.AddString("zones", &zones_dir, "folder of the TLC taxi-zone shapefile for the maps");
  flags.SetDefaultText("zones", "zones/ of the data folder ($BIMRIDE_DATA_DIR)");
  flags.AddBool("no-ui", &no_ui, "serve no web console");
  if (int rc = ParseFlagsOrExit(flags, args); rc >= 0) return rc;

  serving::ServerConfig config;
  if (!config_path.empty()) {
    auto cfg = Config::Load(config_path);
    if (!cfg.ok()) return ReportError(cfg.status());
    Status st = serving::ApplyConfigFile(*cfg, &config);
    if (!st.ok()) return ReportError(st);
  }
  // Flags given on the command line win over the config file.
  if (flags.WasSet("model-repo") || config.model_repo.empty()) config.model_repo = repo;
  if (flags.WasSet("host")) config.host = host;
  if (flags.WasSet("port")) config.port = port;
  if (flags.WasSet("grpc-port")) config.grpc_port = grpc_port;
  if (flags.WasSet("grpc-max-message-bytes")) config.grpc_max_message_bytes = grpc_max_message_bytes;
  if (flags.WasSet("io-threads")) config.io_threads = io_threads;
  if (flags.WasSet("poll-interval-ms")) config.poll_interval_ms = poll_ms;
  if (flags.WasSet("access-log")) config.access_log = access_log;
  if (flags.WasSet("prediction-log")) config.prediction_log.dir = prediction_log;
  if (flags.WasSet("online-store")) config.online_store = online_store;
  if (flags.WasSet("monitor-window-rows")) {
    if (window_rows < 1) {
      std::fprintf(stderr, "bimride serve: --monitor-window-rows must be >= 1\n");
      return kExitUsage;
    }
    config.monitor.window_rows = window_rows;
  }
  if (config.model_repo.empty()) {
    std::fprintf(stderr, "bimride serve: --model-repo is required (or server.model_repo)\n");
    return kExitUsage;
  }
  if (config.port < 0 || config.port > 65535) {
    std::fprintf(stderr, "bimride serve: --port must be 0..65535\n");
    return kExitUsage;
  }
  if (config.grpc_port < -1 || config.grpc_port > 65535) {
    std::fprintf(stderr, "bimride serve: --grpc-port must be 0..65535\n");
    return kExitUsage;
  }
  if (config.grpc_max_message_bytes < 1024 || config.grpc_max_message_bytes > 2147483647) {
    std::fprintf(stderr, "bimride serve: --grpc-max-message-bytes must be 1024..2147483647\n");
    return kExitUsage;
  }

  // Block the stop signals before any thread starts, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The server core first (repository loaded), then each transport over its Service.
  auto server = serving::Server::Create(config);
  if (!server.ok()) return ReportError(server.status());
  // The web console: an explicit --ui-dir that cannot be read is an error; the default one
  // missing (a build without the pages) only turns the console off, said on stderr.
  std::unique_ptr<serving::http::HttpHandler> console;
  bool has_console = false;
  if (!no_ui) {
    const bool explicit_dir = flags.WasSet("ui-dir");
    auto assets = console::LoadAssets(explicit_dir ? ui_dir : DefaultUiDir());
    if (assets.ok()) {
      console::ConsoleOptions co;
      co.model_repo = config.model_repo;
      co.zones_dir = zones_dir;
      co.data_dir = ui_data;
      auto data = console::ConsoleData::Open(co, &(*server)->service());
      if (!data.ok()) return ReportError(data.status());
      console = std::make_unique<console::ConsoleHandler>(std::move(data).value(),
                                                          std::move(assets).value());
      has_console = true;
    } else if (explicit_dir || flags.WasSet("ui-data")) {
      return ReportError(assets.status());
    } else {
      std::fprintf(stderr, "bimride serve: no web console: %s\n",
                   assets.status().message().c_str());
    }
  }
  auto http = serving::http::HttpTransport::Create(&(*server)->service(), (*server)->config(),
                                                   std::move(console));
  if (!http.ok()) return ReportError(http.status());
  const serving::Transport* transport = http->get();
  if (Status st = (*server)->AddTransport(std::move(http).value()); !st.ok()) {
    return ReportError(st);
  }
  std::printf("bimride serve: listening on %s:%d\n", config.host.c_str(), transport->port());
  if (has_console) std::printf("bimride serve: console at http://%s:%d/ui/\n", config.host.c_str(), transport->port());
  std::fflush(stdout);
  if (config.grpc_port >= 0) {
    auto grpc = serving::grpc::GrpcTransport::Create(&(*server)->service(), (*server)->config());
    if (!grpc.ok()) return ReportError(grpc.status());
    const serving::Transport* grpc_transport = grpc->get();
    if (Status st = (*server)->AddTransport(std::move(grpc).value()); !st.ok()) {
      return ReportError(st);
    }
    std::printf("bimride serve: gRPC on %s:%d\n", config.host.c_str(), grpc_transport->port());
    std::fflush(stdout);
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "bimride serve: %s received, draining\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Shutdown();
  return kExitOk;
}

}  // namespace

BIMRIDE_COMMAND("serve", "serve models over TF Serving REST and KServe v2", RunServe);

}  // namespace bimride::cli
