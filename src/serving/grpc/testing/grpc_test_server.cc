// A model server with the gRPC transport over the test backend (serving/testing/test_models.h),
// for clients written in other languages (testing/grpc_python_client_test.py). Test-only.
//
//   grpc_test_server         → prints "port N" once serving on 127.0.0.1:N; stops at stdin EOF
//
// Models: eta (y = x0 + 2 x1 + 3 x2 + version; versions 1 and 2, stable → 1) and trip (raw
// fields pickup_zone, trip_distance, pickup_datetime; outputs a = zone + hour, b = distance).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "serving/grpc/grpc_transport.h"
#include "serving/testing/test_models.h"

int main() {
  using namespace bimride;
  using namespace bimride::serving;
  testing::RegisterTestBackendAndFeatures();
  const std::string repo = testing::MakeTempDir("grpc_test_server");
  for (int v = 1; v <= 2; ++v) {
    testing::TestVersionOptions o;
    o.weights = {{1, 2, 3}};
    o.bias = {static_cast<float>(v)};
    o.output_names = {"eta_seconds"};
    if (Status st = testing::WriteTestVersion(repo, "eta", v, o); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
  }
  if (Status st = testing::WriteTestVersion(repo, "trip", 1, testing::TripVersionOptions());
      !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  ServerConfig config;
  config.model_repo = repo;
  config.poll_interval_ms = 0;
  config.max_batch_rows = 100;
  config.grpc_port = 0;
  config.models["eta"].labels = {{"stable", 1}, {"canary", 2}};
  config.models["eta"].policy.latest = 2;
  auto server = Server::Create(config);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  auto transport = serving::grpc::GrpcTransport::Create(&(*server)->service(), (*server)->config());
  if (!transport.ok()) {
    std::fprintf(stderr, "%s\n", transport.status().ToString().c_str());
    return 1;
  }
  if (Status st = (*server)->AddTransport(std::move(transport).value()); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("port %d\n", serving::grpc::GrpcPort(**server));
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  (*server)->Shutdown(1000);
  std::filesystem::remove_all(repo);
  return 0;
}
