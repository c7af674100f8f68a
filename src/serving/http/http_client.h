// A small synchronous HTTP/1.1 keep-alive client (Boost.Beast): `bimride quickstart` asks the
// server it started for a prediction with it, and the tests and benchmarks drive servers with it.
// Not thread-safe: one client per thread.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/status.h"

namespace bimride::serving::http {

struct ClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

class HttpClient {
 public:
  HttpClient(std::string host, int port);
  ~HttpClient();
  // Reconnects once if the server closed the keep-alive connection.
  StatusOr<ClientResponse> Send(const std::string& method, const std::string& target,
                                const std::string& body = "",
                                const std::map<std::string, std::string>& headers = {});
  StatusOr<ClientResponse> Get(const std::string& target) { return Send("GET", target); }
  StatusOr<ClientResponse> Post(const std::string& target, const std::string& body) {
    return Send("POST", target, body);
  }
  // Sends raw bytes and reads one response (for malformed-request tests).
  StatusOr<ClientResponse> SendRaw(const std::string& bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bimride::serving::http
