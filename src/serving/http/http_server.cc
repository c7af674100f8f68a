#include "serving/http/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <deque>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "common/thread_name.h"
#include "serving/http/json_text.h"

namespace bimride::serving::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// One io_context per I/O thread, each run by that thread alone; a connection lives on one of
// them for its whole life, so its reads, writes and idle timer never run concurrently and need
// no strand. A handler answering from another thread posts the write to the connection's
// io_context. The concrete executor type, not Asio's type-erased any_io_executor, keeps every
// operation free of the erasure's copies and virtual calls.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;

class Session;

// The handle of one streamed response, shared by its owner (HttpStream) and its Session. `open`
// goes false, under `mu`, when the stream ends for any reason; a Send after that posts nothing,
// so no Send reaches an io_context that Shutdown has stopped.
class StreamState : public HttpStream {
 public:
  explicit StreamState(std::weak_ptr<Session> session) : session_(std::move(session)) {}
  bool Send(std::string piece) override;
  void Close() override;
  bool open() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return open_;
  }
  // The stream has ended (the session's side): later Sends answer false.
  void MarkEnded() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }

 private:
  mutable std::mutex mu_;
  bool open_ = true;
  std::weak_ptr<Session> session_;
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler* handler = nullptr;
  // Open streams, so Shutdown can end them (before `contexts`: a Session destroyed with its
  // io_context unregisters).
  std::mutex streams_mu;
  std::list<std::shared_ptr<StreamState>> streams;
  std::atomic<int64_t> open_streams{0};
  // Each of one thread: the hint lets Asio drop the locking a shared io_context needs.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  size_t next_context = 0;  // round-robin for accepted connections (the acceptor's thread only)
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> connections{0};  // open Sessions (each decrements when destroyed)
  // Accept errors (the acceptor's thread only): back off instead of spinning at the descriptor
  // limit, and log the first of a run, then at most one line a minute with the count.
  std::optional<Timer> accept_retry;
  std::chrono::milliseconds accept_backoff{0};
  std::chrono::steady_clock::time_point last_accept_log;
  uint64_t accept_errors_unlogged = 0;
  std::atomic<bool> draining{false};
  bool stopped = false;
  int port = 0;

  explicit Impl(int threads) {
    for (int i = 0; i < threads; ++i) {
      contexts.push_back(std::make_unique<net::io_context>(BOOST_ASIO_CONCURRENCY_HINT_1));
    }
  }
  void Accept();
  void OnAcceptError(const beast::error_code& ec);
  void RefuseOverLimit(Socket& socket);
};

namespace {

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

class Session : public std::enable_shared_from_this<Session>, public HttpRequest {
 public:
  Session(Socket&& socket, HttpServer::Impl* server)
      : socket_(std::move(socket)), idle_timer_(socket_.get_executor()), server_(server) {
    beast::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }
  ~Session() override {
    if (stream_) stream_->MarkEnded();
    Unregister();
    server_->connections.fetch_sub(1, std::memory_order_relaxed);
  }
  Executor executor() { return socket_.get_executor(); }

  void Start() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->Touch();
      self->OnTimer();
      self->Read();
    });
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
  // The idle and request-head timeouts: one timer per connection, armed once and re-armed only
  // when it fires (each read and write just stamps the time), so a request costs no timer
  // operations. A connection idle for the whole idle timeout outside a request is closed; one
  // whose request head has begun but not ended within the head timeout is cut off. Between
  // requests the timer ticks at least every half head timeout to notice a head beginning.
  using Clock = std::chrono::steady_clock;
  void Touch() { last_activity_ = Clock::now(); }

  void ArmIdleTimer(Clock::duration after) {
    idle_timer_.expires_after(after);
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      self->OnTimer();
    });
  }

  void OnTimer() {
    const HttpServerOptions& o = server_->options;
    const auto idle_timeout = std::chrono::seconds(o.idle_timeout_seconds);
    const auto head_timeout = std::chrono::milliseconds(o.header_timeout_ms);
    if (handling_ || stream_) return ArmIdleTimer(idle_timeout);
    const auto now = Clock::now();
    Clock::duration next;
    if (parser_ && parser_->got_some() && !parser_->is_header_done()) {
      if (head_started_ == Clock::time_point()) head_started_ = now;
      if (now - head_started_ >= head_timeout) return Abort();
      next = head_timeout - (now - head_started_);
    } else {
      const auto idle = now - last_activity_;
      if (idle >= idle_timeout) return Abort();
      next = idle_timeout - idle;
    }
    ArmIdleTimer(std::min<Clock::duration>(next, head_timeout / 2));
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(server_->options.max_body_bytes));
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    head_started_ = {};
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->OnRead(ec);
                      });
  }

  void OnRead(beast::error_code ec) {
    Touch();
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof) return Close();
    if (ec == bhttp::error::body_limit) {
      return WriteError(413, "request body is larger than the limit of " +
                                 std::to_string(server_->options.max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      return WriteError(431, "request line and header are larger than the limit of " +
                                 std::to_string(server_->options.max_header_bytes) + " bytes");
    }
    if (ec == net::error::operation_aborted || closed_) return;
    if (ec) {
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
        return WriteError(400, "malformed HTTP request: " + ec.message());
      }
      return Abort();  // connection reset and friends
    }
    // RFC 9112 6.3: a request whose Transfer-Encoding does not end in chunked has no knowable
    // length (and with Content-Length beside it, two). Taken as bodiless or as Content-Length
    // says, its body would run as the next request (smuggling): refuse it and close.
    if (!parser_->chunked() && parser_->get().count(bhttp::field::transfer_encoding) > 0) {
      return WriteError(400,
                        "Transfer-Encoding other than chunked is not supported; send "
                        "Content-Length or Transfer-Encoding: chunked");
    }
    req_ = parser_->release();
    server_->in_flight.fetch_add(1, std::memory_order_relaxed);
    counted_ = true;
    handling_ = true;
    server_->handler->Handle(*this, [self = shared_from_this()](HttpResponse response) {
      // dispatch: runs inline when answered on this connection's own I/O thread.
      Session* session = self.get();
      net::dispatch(session->socket_.get_executor(),
                    [self = std::move(self), response = std::move(response)]() mutable {
                      self->handling_ = false;
                      self->Write(std::move(response), self->req_.keep_alive());
                    });
    });
  }

  void WriteError(int status, const std::string& message) {
    Write(HttpResponse{status, ErrorBody(message), "application/json"}, /*keep_alive=*/false);
  }

  // The response head is four fixed fields, written by hand into a reused buffer and sent
  // with the body in one gathered write (Beast's serializer allocates a field list per
  // response). HTTP/1.1 keeps the connection open unless told; a 1.0 client that asked for
  // keep-alive gets it said back.
  void Write(HttpResponse response, bool keep_alive) {
    if (response.stream) return StartStream(std::move(response));
    keep_alive_ = keep_alive && !server_->draining.load(std::memory_order_relaxed);
    const unsigned status = static_cast<unsigned>(response.status);
    const beast::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    char number[24];
    head_.clear();
    head_ += "HTTP/1.1 ";
    head_.append(number, std::to_chars(number, number + sizeof number, status).ptr);
    head_ += ' ';
    head_.append(reason.data(), reason.size());
    head_ += "\r\nServer: bimride\r\nContent-Type: ";
    head_ += response.content_type;
    if (!response.request_id.empty()) {
      head_ += "\r\nx-request-id: ";
      head_ += response.request_id;
    }
    head_ += "\r\nContent-Length: ";
    head_.append(number, std::to_chars(number, number + sizeof number, response.body.size()).ptr);
    if (!keep_alive_) {
      head_ += "\r\nConnection: close";
    } else if (req_.version() < 11) {
      head_ += "\r\nConnection: keep-alive";
    }
    head_ += "\r\n\r\n";
    body_ = std::move(response.body);
    const std::array<net::const_buffer, 2> buffers = {net::buffer(head_), net::buffer(body_)};
    net::async_write(socket_, buffers,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->OnWrite(ec);
                     });
  }

  // A streamed response: the head (no length; chunked for HTTP/1.1) and the first piece, then
  // the owner's pieces as they come, one write at a time from a queue. A read stays pending to
  // see the client leave. Not in flight: a draining shutdown ends streams instead of waiting.
  void StartStream(HttpResponse response) {
    Uncount();
    keep_alive_ = false;
    const int64_t open = server_->open_streams.fetch_add(1, std::memory_order_relaxed);
    if (open >= server_->options.max_streams || server_->draining.load()) {
      server_->open_streams.fetch_sub(1, std::memory_order_relaxed);
      return WriteError(503, server_->draining.load()
                                 ? "the server is shutting down"
                                 : "too many open streams (" +
                                       std::to_string(server_->options.max_streams) +
                                       "); retry later");
    }
    chunked_ = req_.version() >= 11;
    stream_ = std::make_shared<StreamState>(weak_from_this());
    {
      std::lock_guard<std::mutex> lock(server_->streams_mu);
      registered_ = server_->streams.insert(server_->streams.end(), stream_);
    }
    is_registered_ = true;
    const unsigned status = static_cast<unsigned>(response.status);
    const beast::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                       std::string(reason.data(), reason.size()) +
                       "\r\nServer: bimride\r\nContent-Type: " + response.content_type +
                       "\r\nCache-Control: no-cache";
    if (!response.request_id.empty()) head += "\r\nx-request-id: " + response.request_id;
    if (chunked_) head += "\r\nTransfer-Encoding: chunked";
    head += "\r\nConnection: close\r\n\r\n";
    out_bytes_ += head.size();
    out_.push_back(std::move(head));
    QueuePiece(std::move(response.body));
    DrainRead();
    response.stream(stream_);
  }

 public:
  // The stream's pieces, on this connection's I/O thread (StreamState posts them here).
  void QueuePiece(std::string piece) {
    if (!stream_ || stream_ending_ || piece.empty()) return;  // an empty chunk would end it
    if (chunked_) {
      char size[20];
      std::string framed(size, std::to_chars(size, size + sizeof size, piece.size(), 16).ptr);
      framed += "\r\n";
      framed += piece;
      framed += "\r\n";
      piece = std::move(framed);
    }
    out_bytes_ += piece.size();
    if (static_cast<int64_t>(out_bytes_) > server_->options.max_stream_buffer_bytes) {
      BIMRIDE_LOG(WARN) << "stream to " << remote_ << " ended: its client left more than "
                        << server_->options.max_stream_buffer_bytes << " bytes unread";
      return AbortStream();
    }
    out_.push_back(std::move(piece));
    Pump();
  }

  // Ends the stream once the queue is written (the last chunk, then FIN).
  void EndStream() {
    if (!stream_ || stream_ending_) return;
    stream_ending_ = true;
    stream_->MarkEnded();
    if (chunked_) {
      out_.push_back("0\r\n\r\n");
      out_bytes_ += 5;
    }
    Pump();
  }

 private:
  void Pump() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      if (stream_ending_) FinishStream();
      return;
    }
    writing_ = true;
    net::async_write(socket_, net::buffer(out_.front()),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->writing_ = false;
                       self->Touch();
                       if (ec) return self->AbortStream();
                       self->out_bytes_ -= self->out_.front().size();
                       self->out_.pop_front();
                       self->Pump();
                     });
  }

  // The last piece is written: FIN, and the socket closed when the client closes its side (the
  // pending read ends) or a second later, whichever comes first.
  void FinishStream() {
    Unregister();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    idle_timer_.expires_after(std::chrono::seconds(1));  // cancels the idle tick
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && !self->closed_) self->Abort();
    });
  }

  // Reads (and drops) whatever the client sends while streaming, to notice it leaving.
  void DrainRead() {
    socket_.async_read_some(net::buffer(drain_), [self = shared_from_this()](
                                                     beast::error_code ec, std::size_t) {
      if (ec) return self->AbortStream();  // the client left (or we closed)
      self->DrainRead();
    });
  }

  void AbortStream() {
    if (stream_) stream_->MarkEnded();
    Unregister();
    if (!closed_) Abort();
  }

  void Unregister() {
    if (!is_registered_) return;
    is_registered_ = false;
    {
      std::lock_guard<std::mutex> lock(server_->streams_mu);
      server_->streams.erase(registered_);
    }
    server_->open_streams.fetch_sub(1, std::memory_order_relaxed);
  }

  void Uncount() {
    if (counted_) {
      counted_ = false;
      server_->in_flight.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  void OnWrite(beast::error_code ec) {
    Touch();
    if (counted_) {
      counted_ = false;
      server_->in_flight.fetch_sub(1, std::memory_order_relaxed);
    }
    if (ec) return Abort();
    if (!keep_alive_) return Close();
    Read();
  }

  // After the last response: send FIN, let the peer close.
  void Close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    closed_ = true;
    idle_timer_.cancel();
  }

  // Idle or broken: close now (a pending read completes with operation_aborted).
  void Abort() {
    beast::error_code ec;
    closed_ = true;
    idle_timer_.cancel();
    socket_.close(ec);
  }

  Socket socket_;
  Timer idle_timer_;
  HttpServer::Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::request<bhttp::string_body> req_;
  std::string head_;  // the response's status line and fields
  std::string body_;
  Clock::time_point last_activity_;
  Clock::time_point head_started_;  // when a tick first saw this request's head begun; {} if not
  bool keep_alive_ = true;
  bool handling_ = false;
  bool closed_ = false;
  bool counted_ = false;
  std::string remote_;
  // A streamed response (StartStream): its handle, the pieces waiting to be written and their
  // bytes, and its place among the server's open streams.
  std::shared_ptr<StreamState> stream_;
  std::deque<std::string> out_;
  size_t out_bytes_ = 0;
  bool writing_ = false;
  bool stream_ending_ = false;
  bool chunked_ = false;
  bool is_registered_ = false;
  std::list<std::shared_ptr<StreamState>>::iterator registered_;
  std::array<char, 512> drain_;
};

bool StreamState::Send(std::string piece) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return false;
  std::shared_ptr<Session> session = session_.lock();
  if (!session) {
    open_ = false;
    return false;
  }
  Executor ex = session->executor();
  net::post(ex, [session = std::move(session), piece = std::move(piece)]() mutable {
    session->QueuePiece(std::move(piece));
  });
  return true;
}

void StreamState::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return;
  open_ = false;
  if (std::shared_ptr<Session> session = session_.lock()) {
    Executor ex = session->executor();
    net::post(ex, [session = std::move(session)] { session->EndStream(); });
  }
}

}  // namespace

void HttpServer::Impl::Accept() {
  net::io_context& home = *contexts[next_context];
  next_context = (next_context + 1) % contexts.size();
  acceptor->async_accept(home.get_executor(), [this](beast::error_code ec, Socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
      return OnAcceptError(ec);
    }
    accept_backoff = std::chrono::milliseconds(0);
    if (connections.load(std::memory_order_relaxed) >= options.max_connections) {
      RefuseOverLimit(socket);
    } else {
      connections.fetch_add(1, std::memory_order_relaxed);
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), this)->Start();
    }
    if (!draining.load()) Accept();
  });
}

// EMFILE/ENFILE (and ENOBUFS, ENOMEM) leave the connection in the backlog, so accepting again at
// once fails again at once: wait, doubling from 10 ms to 1 s, until a descriptor frees.
void HttpServer::Impl::OnAcceptError(const beast::error_code& ec) {
  const auto now = std::chrono::steady_clock::now();
  if (accept_errors_unlogged == 0 && accept_backoff.count() == 0) {
    BIMRIDE_LOG(WARN) << "accept: " << ec.message() << " (" << connections.load()
                      << " connections open); backing off, further errors logged once a minute";
    last_accept_log = now;
  } else if (now - last_accept_log >= std::chrono::minutes(1)) {
    BIMRIDE_LOG(WARN) << "accept: " << ec.message() << " (" << accept_errors_unlogged + 1
                      << " errors in the last minute; " << connections.load()
                      << " connections open)";
    last_accept_log = now;
    accept_errors_unlogged = 0;
  } else {
    ++accept_errors_unlogged;
  }
  accept_backoff = std::min<std::chrono::milliseconds>(
      std::chrono::seconds(1),
      std::max<std::chrono::milliseconds>(std::chrono::milliseconds(10), accept_backoff * 2));
  if (!accept_retry) accept_retry.emplace(contexts[0]->get_executor());
  accept_retry->expires_after(accept_backoff);
  accept_retry->async_wait([this](beast::error_code wait_ec) {
    if (wait_ec || draining.load() || !acceptor->is_open()) return;
    Accept();
  });
}

// Over the connection limit: a short 503 written without blocking (it fits any fresh socket's
// send buffer), then closed, so the client learns at once instead of hanging in the backlog.
void HttpServer::Impl::RefuseOverLimit(Socket& socket) {
  static constexpr std::string_view kBody = "{\"error\": \"too many connections; retry later\"}";
  static const std::string kResponse =
      "HTTP/1.1 503 Service Unavailable\r\nServer: bimride\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + std::string(kBody);
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(net::buffer(kResponse), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                        HttpHandler* handler) {
  int threads = options.io_threads > 0 ? options.io_threads
                                       : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  if (options.max_connections < 1 || options.max_header_bytes < 256 ||
      options.header_timeout_ms < 1 || options.idle_timeout_seconds < 1) {
    return InvalidArgumentError(
        "HTTP server: max_connections, header_timeout_ms and idle_timeout_seconds must be >= 1, "
        "max_header_bytes >= 256");
  }
  auto impl = std::make_unique<Impl>(threads);
  impl->options = options;
  impl->handler = handler;
  beast::error_code ec;
  auto address = net::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host,
                                       ec);
  if (ec) return InvalidArgumentError("--host '" + options.host + "': not an IP address");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  impl->acceptor.emplace(*impl->contexts[0]);
  const std::string where = options.host + ":" + std::to_string(options.port);
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (ec) return UnavailableError(where + ": cannot bind: " + ec.message());
  impl->acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError(where + ": cannot listen: " + ec.message());
  impl->port = impl->acceptor->local_endpoint().port();
  impl->Accept();
  for (auto& context : impl->contexts) {
    net::io_context* ioc = context.get();
    impl->threads.emplace_back([ioc] {
      NameThisThread("http-io");
      // Keeps run() going while this thread's connections are all idle or gone.
      auto work = net::make_work_guard(*ioc);
      ioc->run();
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(0); }

int HttpServer::port() const { return impl_->port; }

int64_t HttpServer::open_streams() const { return impl_->open_streams.load(); }

void HttpServer::Shutdown(int drain_ms) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->draining.store(true);
  // Close the listening socket on its own thread, and wait for that: had the io_contexts been
  // stopped before the posted close ran, the socket would stay open and the kernel would keep
  // accepting connections that nobody serves.
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> closed_done = closed->get_future();
  net::dispatch(impl_->acceptor->get_executor(), [raw = impl_.get(), closed] {
    beast::error_code ec;
    raw->acceptor->close(ec);
    if (raw->accept_retry) raw->accept_retry->cancel();
    closed->set_value();
  });
  closed_done.wait_for(std::chrono::seconds(2));
  // Streams have no end of their own: end each now (its queue written, the last chunk, FIN).
  std::vector<std::shared_ptr<StreamState>> streams;
  {
    std::lock_guard<std::mutex> lock(impl_->streams_mu);
    streams.assign(impl_->streams.begin(), impl_->streams.end());
  }
  for (const auto& stream : streams) stream->Close();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  while ((impl_->in_flight.load() > 0 || impl_->open_streams.load() > 0) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (auto& context : impl_->contexts) context->stop();
  for (std::thread& t : impl_->threads) t.join();
  {
    // One begun after the list was taken, or whose client did not read its end in time: its
    // owner's Sends must not reach the stopped io_context.
    std::lock_guard<std::mutex> lock(impl_->streams_mu);
    for (const auto& stream : impl_->streams) stream->MarkEnded();
  }
  impl_->threads.clear();
  beast::error_code ec;
  impl_->acceptor->close(ec);  // no thread runs now; a no-op when the close above ran
  // Connections still open (idle keep-alive ones, and any the drain gave up on) are freed
  // with their pending handlers when the io_contexts go, with the Impl.
}

}  // namespace bimride::serving::http
