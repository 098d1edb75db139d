#pragma once
// The hub's connection handling in front of httplib's request parser: a slow client costs its
// socket, not a thread.
//
// httplib 0.11 gives every accepted connection a worker thread for its whole life, with only a
// per-read timeout: a client that sends one header byte every few seconds, or that keeps an idle
// keep-alive connection, holds a thread, and a few dozen such sockets starve the server.
// GatedHttpServer keeps httplib's parser and routing but replaces how connections are served:
//   - one gate thread waits (epoll) on every connection that has no complete request head yet
//     and reads it into a buffer; no worker is involved until the head is complete;
//   - a connection gets ConnectionLimits::head_deadline_ms in the gate, in all, to deliver a
//     complete request head (line + headers), counted from when it entered the gate (accept, or
//     the end of its previous request); slower ones are closed;
//   - a complete head goes to a fixed pool of workers, which run httplib's process_request over
//     the buffered head and then the socket (body reads: per-read timeout, and a total deadline
//     the route may set with limit_body_time); afterwards a keep-alive connection returns to the
//     gate, so an idle connection holds no thread either;
//   - at most max_connections open sockets: more are answered 503 and closed at once;
//   - a response that says Connection: close, or refuses a request that carries a body (the
//     rest of which may still be unread), closes the connection.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>

namespace lv::hub {

struct ConnectionLimits {
  size_t workers = 96;                  // threads running requests (not connections)
  size_t max_connections = 2048;        // open sockets, waiting or served
  int head_deadline_ms = 10000;         // whole request head, per request
  int read_timeout_ms = 60000;          // one read of a request body
  int write_timeout_ms = 60000;         // one write of a response
  size_t max_head_bytes = 32 * 1024;    // request line + headers; more is answered 431
  size_t keep_alive_max_requests = 1000;
};

// httplib::Server whose connections go through the gate described above. Routes, handlers,
// pre-routing and error handlers are httplib's, unchanged.
class GatedHttpServer : public httplib::Server {
 public:
  explicit GatedHttpServer(const ConnectionLimits& limits = {});
  ~GatedHttpServer() override;

  // Call before listening.
  void set_limits(const ConnectionLimits& limits) { limits_ = limits; }

  // After bind_to_port: httplib listens with a backlog of 5, which drops connections (clients
  // retry after a second) whenever the accept thread falls a few behind.
  void widen_listen_backlog();

  // Shadows httplib's: the gate needs to see every response (Connection: close must close).
  GatedHttpServer& set_logger(httplib::Logger logger);

 private:
  class Gate;
  // Private virtual in httplib::Server, called from its accept loop for each accepted socket
  // (through the task queue, which here runs it on the accept thread): hands the socket to the
  // gate.
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
  httplib::Logger logger_;
  std::atomic<Gate*> gate_{nullptr};
};

// For a route's handler (or pre-routing), on the worker serving the request: the rest of this
// request's body must arrive within `limit` from now. No effect outside a GatedHttpServer worker.
void limit_body_time(std::chrono::milliseconds limit);

}  // namespace lv::hub
