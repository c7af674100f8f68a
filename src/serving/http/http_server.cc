#include "serving/http/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "common/logging.h"

namespace bimride::serving::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// Each connection runs on its own strand (a handler may answer from another thread). The
// concrete executor type, not Asio's type-erased any_io_executor, keeps every read and write
// free of the erasure's copies and virtual calls — on a batch-1 request they were a tenth of
// the server's CPU time.
using Executor = net::strand<net::io_context::executor_type>;
using Stream = beast::basic_stream<tcp, Executor>;

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler* handler = nullptr;
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> draining{false};
  bool stopped = false;
  int port = 0;

  explicit Impl(int threads) : ioc(threads) {}
  void Accept();
};

namespace {

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

class Session : public std::enable_shared_from_this<Session>, public HttpRequest {
 public:
  Session(net::basic_stream_socket<tcp, Executor>&& socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

  // HttpRequest
  std::string_view method() const override { return View(req_.method_string()); }
  std::string_view target() const override { return View(req_.target()); }
  const std::string& body() const override { return req_.body(); }
  std::string_view remote_address() const override { return remote_; }
  std::string_view Get(std::string_view name) const override {
    auto it = req_.find(beast::string_view(name.data(), name.size()));
    if (it == req_.end()) return {};
    return View(it->value());
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(server_->options.max_body_bytes));
    stream_.expires_after(std::chrono::seconds(server_->options.idle_timeout_seconds));
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof) return Close();
    if (ec == bhttp::error::body_limit) {
      return WriteError(413, "request body is larger than the limit of " +
                                 std::to_string(server_->options.max_body_bytes) + " bytes");
    }
    if (ec == beast::error::timeout || ec == net::error::operation_aborted) return;
    if (ec) {
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
        return WriteError(400, "malformed HTTP request: " + ec.message());
      }
      return;  // connection reset and friends
    }
    req_ = parser_->release();
    server_->in_flight.fetch_add(1, std::memory_order_relaxed);
    counted_ = true;
    stream_.expires_never();
    server_->handler->Handle(*this, [self = shared_from_this()](HttpResponse response) {
      net::dispatch(self->stream_.get_executor(),
                    [self, response = std::move(response)]() mutable {
                      self->Write(std::move(response), self->req_.keep_alive());
                    });
    });
  }

  void WriteError(int status, const std::string& message) {
    std::string body = "{\"error\": \"";
    for (char c : message) {
      if (c == '"' || c == '\\') body += '\\';
      body += c;
    }
    body += "\"}";
    Write(HttpResponse{status, std::move(body), "application/json"}, /*keep_alive=*/false);
  }

  // The response head is four fixed fields, written by hand into a reused buffer and sent
  // with the body in one gathered write (Beast's serializer allocates a field list per
  // response). HTTP/1.1 keeps the connection open unless told; a 1.0 client that asked for
  // keep-alive gets it said back.
  void Write(HttpResponse response, bool keep_alive) {
    keep_alive_ = keep_alive && !server_->draining.load(std::memory_order_relaxed);
    const unsigned status = static_cast<unsigned>(response.status);
    const beast::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    head_.clear();
    head_ += "HTTP/1.1 ";
    head_ += std::to_string(status);
    head_ += ' ';
    head_.append(reason.data(), reason.size());
    head_ += "\r\nServer: bimride\r\nContent-Type: ";
    head_ += response.content_type;
    head_ += "\r\nContent-Length: ";
    head_ += std::to_string(response.body.size());
    if (!keep_alive_) {
      head_ += "\r\nConnection: close";
    } else if (req_.version() < 11) {
      head_ += "\r\nConnection: keep-alive";
    }
    head_ += "\r\n\r\n";
    body_ = std::move(response.body);
    stream_.expires_after(std::chrono::seconds(server_->options.idle_timeout_seconds));
    const std::array<net::const_buffer, 2> buffers = {net::buffer(head_), net::buffer(body_)};
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    if (counted_) {
      counted_ = false;
      server_->in_flight.fetch_sub(1, std::memory_order_relaxed);
    }
    if (ec) return;
    if (!keep_alive_) return Close();
    Read();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  Stream stream_;
  HttpServer::Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::request<bhttp::string_body> req_;
  std::string head_;  // the response's status line and fields
  std::string body_;
  bool keep_alive_ = true;
  std::string remote_;
  bool counted_ = false;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec,
                                                       net::basic_stream_socket<tcp, Executor> socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
      BIMRIDE_LOG(WARN) << "accept: " << ec.message();
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), this)->Start();
    }
    if (!draining.load()) Accept();
  });
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                        HttpHandler* handler) {
  int threads = options.io_threads > 0 ? options.io_threads
                                       : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  auto impl = std::make_unique<Impl>(threads);
  impl->options = options;
  impl->handler = handler;
  beast::error_code ec;
  auto address = net::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host,
                                       ec);
  if (ec) return InvalidArgumentError("--host '" + options.host + "': not an IP address");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  impl->acceptor.emplace(impl->ioc);
  const std::string where = options.host + ":" + std::to_string(options.port);
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (ec) return UnavailableError(where + ": cannot bind: " + ec.message());
  impl->acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError(where + ": cannot listen: " + ec.message());
  impl->port = impl->acceptor->local_endpoint().port();
  impl->Accept();
  Impl* raw = impl.get();
  for (int i = 0; i < threads; ++i) {
    impl->threads.emplace_back([raw] { raw->ioc.run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(0); }

int HttpServer::port() const { return impl_->port; }

void HttpServer::Shutdown(int drain_ms) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->draining.store(true);
  net::dispatch(impl_->acceptor->get_executor(), [raw = impl_.get()] {
    beast::error_code ec;
    raw->acceptor->close(ec);
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace bimride::serving::http
