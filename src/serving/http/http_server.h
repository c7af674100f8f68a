// HttpServer: a small HTTP/1.1 server on Boost.Beast + Boost.Asio: keep-alive, a fixed pool of
// I/O threads (no thread per connection), a body-size limit (413), asynchronous responses (a
// handler may answer later, from any thread), streamed responses (server-sent events: a head,
// then pieces written as the handler sends them), and a draining shutdown. Each I/O thread runs an
// io_context of its own and a connection stays on one, so no connection needs a lock.
//
// It knows nothing about models: it hands each complete request to an HttpHandler.
// Thread safety: Start/Shutdown from one controlling thread; handlers run on I/O threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "serving/service.h"

namespace bimride::serving::http {

// A complete request. Valid until the handler's `respond` has been called.
class HttpRequest : public RequestHeaders {
 public:
  virtual std::string_view method() const = 0;
  virtual std::string_view target() const = 0;  // path + query as sent
  virtual const std::string& body() const = 0;
  virtual std::string_view remote_address() const = 0;
};

class HttpStream;
// Called once with the stream's handle, on the connection's I/O thread, right after the head and
// the first piece were queued; it must not block (keep the handle and return).
using HttpStreamStart = std::function<void(std::shared_ptr<HttpStream>)>;

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string request_id;  // sent as `x-request-id` when not empty
  // Set: the response is a stream (e.g. text/event-stream). Its head goes out without a length
  // (chunked for HTTP/1.1), `body` as the first piece, then whatever the handle's owner sends,
  // until it closes the stream, the client goes or the server shuts down. The connection closes
  // with the stream. Beyond HttpServerOptions::max_streams open at once, answered 503 instead
  // (`stream` is then never called).
  HttpStreamStart stream;
};

// The writing end of a streamed response. Thread safety: every method from any thread. Holding
// the handle keeps no connection open: once the stream has ended, Send returns false.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Queues `piece` (written without blocking the caller); false when the stream has ended (the
  // client left, the server is shutting down, Close was called, or the client read so slowly
  // that more than HttpServerOptions::max_stream_buffer_bytes waited): stop sending.
  virtual bool Send(std::string piece) = 0;
  // Ends the response once what was queued is written, then closes the connection. Idempotent.
  virtual void Close() = 0;
  virtual bool open() const = 0;
};

// Must be called exactly once per request, from any thread.
using HttpRespond = std::function<void(HttpResponse)>;

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void Handle(const HttpRequest& request, HttpRespond respond) = 0;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                      // 0: pick a free port
  int io_threads = 0;                // 0: one per core
  int64_t max_body_bytes = 4 << 20;  // larger → 413 and the connection is closed
  int idle_timeout_seconds = 60;     // keep-alive connections idle this long are closed
  // Open connections beyond this are answered 503 and closed at once (each holds a descriptor
  // and memory until its idle timeout).
  int64_t max_connections = 10000;
  int64_t max_header_bytes = 16 << 10;  // a larger request line + header → 431, closed
  // A request head (line and header) must arrive whole within this much time of its first byte;
  // a client trickling it (slowloris) is cut off.
  int64_t header_timeout_ms = 10000;
  // Streamed responses open at once; one more is answered 503. Not counted as in flight: a
  // draining shutdown ends them at once instead of waiting for them.
  int64_t max_streams = 64;
  // A stream whose client leaves this much unread is ended (a stalled reader holds no memory).
  int64_t max_stream_buffer_bytes = 1 << 20;
};

class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. `handler` must outlive the server.
  static StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                     HttpHandler* handler);
  ~HttpServer();  // Shutdown(0)

  int port() const;
  // Streamed responses open now (for tests and metrics).
  int64_t open_streams() const;
  // Stops accepting, ends every open stream (its last piece written, then closed), waits up to
  // `drain_ms` for in-flight requests to be answered and written, then closes every connection
  // and joins the I/O threads. Idempotent.
  void Shutdown(int drain_ms = 10000);

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bimride::serving::http
