#include "cli/server_call.h"

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "serving/http/http_client.h"

namespace bimride::cli {

StatusOr<std::string> CallServer(const std::string& server, const std::string& method,
                                 const std::string& path, const std::string& body) {
  ASSIGN_OR_RETURN(auto hp, ParseServerFlag(server));
  serving::http::HttpClient client(hp.first, hp.second);
  std::map<std::string, std::string> headers;
  if (const char* token = std::getenv("BIMRIDE_ADMIN_TOKEN"); token != nullptr && *token) {
    headers["authorization"] = std::string("Bearer ") + token;
  }
  StatusOr<serving::http::ClientResponse> r = client.Send(method, path, body, headers);
  if (!r.ok()) return r.status().WithContext(server + path);
  if (r->status == 200) return r->body;
  const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  const std::string said = j.is_object() && j.contains("error") && j["error"].is_string()
                               ? j["error"].get<std::string>()
                               : r->body;
  const StatusCode code = r->status == 404   ? StatusCode::kNotFound
                          : r->status == 400 ? StatusCode::kInvalidArgument
                                             : StatusCode::kUnavailable;
  return Status(code, server + path + ": HTTP " + std::to_string(r->status) + ": " + said);
}

}  // namespace bimride::cli
