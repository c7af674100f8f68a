#include "serving/http/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace bimride::serving::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpClient::Impl {
  std::string host;
  int port;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  Status Connect() {
    beast::error_code ec;
    stream.emplace(ioc);
    stream->connect(tcp::endpoint(net::ip::make_address(host), static_cast<uint16_t>(port)), ec);
    if (ec) return UnavailableError("connect: " + ec.message());
    buffer.clear();
    return OkStatus();
  }

  StatusOr<ClientResponse> Read() {
    beast::error_code ec;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    bhttp::read(*stream, buffer, parser, ec);
    if (ec) return UnavailableError("read: " + ec.message());
    ClientResponse out;
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      out.headers[name] = std::string(f.value());
    }
    if (!res.keep_alive()) stream.reset();
    return out;
  }
};

HttpClient::HttpClient(std::string host, int port) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() = default;

StatusOr<ClientResponse> HttpClient::Send(const std::string& method, const std::string& target,
                                          const std::string& body,
                                          const std::map<std::string, std::string>& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->stream) RETURN_IF_ERROR(impl_->Connect());
    bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
    req.set(bhttp::field::host, impl_->host);
    req.keep_alive(true);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST") {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    beast::error_code ec;
    bhttp::write(*impl_->stream, req, ec);
    if (ec) {
      impl_->stream.reset();
      continue;
    }
    auto res = impl_->Read();
    if (res.ok()) return res;
    impl_->stream.reset();
    if (attempt == 1) return res.status();
  }
  return UnavailableError("request failed twice");
}

StatusOr<ClientResponse> HttpClient::SendRaw(const std::string& bytes) {
  impl_->stream.reset();
  RETURN_IF_ERROR(impl_->Connect());
  beast::error_code ec;
  net::write(impl_->stream->socket(), net::buffer(bytes), ec);
  if (ec) return UnavailableError("write: " + ec.message());
  auto res = impl_->Read();
  impl_->stream.reset();
  return res;
}

}  // namespace bimride::serving::http
