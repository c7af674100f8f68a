// gRPC load generator for the serving benchmark (bench/serving/grpc_run.sh): batch-1 KServe v2
// ModelInfer calls, the gRPC counterpart of wrk's closed loop — C connections (one channel
// each, so one HTTP/2 connection each), one call in flight on each, for D seconds. The same
// binary drives `bimride serve --grpc-port` and the Python grpcio peer.
//
//   grpc_infer_load --target 127.0.0.1:8500 --model eta --body body_features.json
//                   [--connections 16] [--seconds 5] [--raw]
//
// The body is a TF Serving row-format JSON file ({"instances": [[x0, x1, …]]}, the REST bench's
// features body); its first row is sent as FP32 [1, W], in typed contents or (--raw) in
// raw_input_contents. Prints one line: requests, errors, rate, latency p50/p99 and the load
// generator's own CPU time per request (user + system, all its threads: on a machine shared with
// the server it is CPU the server does not get); every answer is checked to carry one FP32 value
// (else counted as an error), and the first error is printed.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grpc_predict_v2.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub;
  std::unique_ptr<grpc::ClientContext> ctx;
  inference::ModelInferResponse response;
  Clock::time_point sent;
  std::vector<int64_t> latencies_ns;
  int64_t errors = 0;
};

struct Load {
  inference::ModelInferRequest request;
  std::vector<std::unique_ptr<Connection>> connections;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  std::string first_error;

  void Issue(Connection* c) {
    c->ctx = std::make_unique<grpc::ClientContext>();
    c->response.Clear();
    c->sent = Clock::now();
    c->stub->async()->ModelInfer(c->ctx.get(), &request, &c->response,
                                 [this, c](grpc::Status st) { Done(c, st); });
  }
  void Done(Connection* c, const grpc::Status& st) {
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - c->sent)
                           .count();
    const bool ok = st.ok() && c->response.outputs_size() == 1 &&
                    (c->response.outputs(0).contents().fp32_contents_size() == 1 ||
                     (c->response.raw_output_contents_size() == 1 &&
                      c->response.raw_output_contents(0).size() == 4));
    if (ok) {
      c->latencies_ns.push_back(ns);
    } else {
      ++c->errors;
      std::lock_guard<std::mutex> lock(mu);
      if (first_error.empty()) {
        first_error = st.ok() ? "unexpected answer: " + c->response.ShortDebugString()
                              : std::to_string(st.error_code()) + " " + st.error_message();
      }
    }
    if (!stop.load()) return Issue(c);
    std::lock_guard<std::mutex> lock(mu);
    if (--in_flight == 0) cv.notify_all();
  }
};

std::string Arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + name) return argv[i + 1];
  }
  return def;
}

bool Flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == "--" + name) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string target = Arg(argc, argv, "target", "");
  const std::string model = Arg(argc, argv, "model", "eta");
  const std::string body_path = Arg(argc, argv, "body", "");
  const int connections = std::atoi(Arg(argc, argv, "connections", "16").c_str());
  const double seconds = std::atof(Arg(argc, argv, "seconds", "5").c_str());
  const bool raw = Flag(argc, argv, "raw");
  if (target.empty() || body_path.empty() || connections < 1 || seconds <= 0) {
    std::fprintf(stderr, "usage: grpc_infer_load --target HOST:PORT --body FILE [--model M] "
                         "[--connections C] [--seconds S] [--raw]\n");
    return 2;
  }
  std::ifstream in(body_path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json body = nlohmann::json::parse(text.str(), nullptr, false);
  if (!body.is_object() || !body.contains("instances") || !body["instances"].is_array() ||
      body["instances"].empty() || !body["instances"][0].is_array()) {
    std::fprintf(stderr, "grpc_infer_load: %s: want {\"instances\": [[numbers…]]}\n",
                 body_path.c_str());
    return 1;
  }
  std::vector<float> row;
  for (const auto& v : body["instances"][0]) row.push_back(v.get<float>());

  Load load;
  load.request.set_model_name(model);
  auto* t = load.request.add_inputs();
  t->set_name("features");
  t->set_datatype("FP32");
  t->add_shape(1);
  t->add_shape(static_cast<int64_t>(row.size()));
  if (raw) {
    load.request.add_raw_input_contents(
        std::string(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(float)));
  } else {
    for (float v : row) t->mutable_contents()->add_fp32_contents(v);
  }
  for (int i = 0; i < connections; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("bimride.connection", i);  // a distinct argument: a channel (connection) of its own
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      std::fprintf(stderr, "grpc_infer_load: cannot connect to %s\n", target.c_str());
      return 1;
    }
    auto c = std::make_unique<Connection>();
    c->stub = inference::GRPCInferenceService::NewStub(channel);
    c->latencies_ns.reserve(1 << 20);
    load.connections.push_back(std::move(c));
  }
  load.in_flight = connections;
  const Clock::time_point start = Clock::now();
  for (auto& c : load.connections) load.Issue(c.get());
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  load.stop = true;
  const Clock::time_point end = Clock::now();
  {
    std::unique_lock<std::mutex> lock(load.mu);
    load.cv.wait(lock, [&] { return load.in_flight == 0; });
  }
  std::vector<int64_t> all;
  int64_t errors = 0;
  for (auto& c : load.connections) {
    all.insert(all.end(), c->latencies_ns.begin(), c->latencies_ns.end());
    errors += c->errors;
  }
  std::sort(all.begin(), all.end());
  const double elapsed = std::chrono::duration<double>(end - start).count();
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))] / 1e3;
  };
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
                        usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
  std::printf("grpc requests %zu errors %lld seconds %.2f rate %.0f req/s p50 %.0f us p99 %.0f us "
              "client_cpu %.1f us\n",
              all.size(), static_cast<long long>(errors), elapsed, all.size() / elapsed, pct(0.5),
              pct(0.99), all.empty() ? 0.0 : cpu_us / all.size());
  if (!load.first_error.empty()) std::printf("first error: %s\n", load.first_error.c_str());
  return errors == 0 ? 0 : 1;
}
