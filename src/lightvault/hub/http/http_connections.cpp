// The gate in front of httplib's request parser (see http_connections.h).
#include "lightvault/hub/http/http_connections.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace lv::hub {

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  std::string buf;  // bytes read and not yet consumed by a request
  Clock::time_point deadline;
  size_t requests = 0;
};

// The request head is complete once a line that is only CRLF follows a line end: httplib's
// header reader stops at that line.
bool head_complete(const std::string& buf) { return buf.find("\n\r\n") != std::string::npos; }

void send_canned(int fd, const char* status, const char* body) {
  std::string msg = std::string("HTTP/1.1 ") + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(std::char_traits<char>::length(body)) +
                    "\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n" + body;
  (void)::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

int millis_until(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) return;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

// One request's view of its connection: the buffered bytes first, then the socket.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(Conn& c, const ConnectionLimits& limits) : c_(c), limits_(limits) {}

  bool is_readable() const override { return pos_ < c_.buf.size() || wait(POLLIN, limits_.read_timeout_ms); }
  bool is_writable() const override { return wait(POLLOUT, limits_.write_timeout_ms); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ < c_.buf.size()) {
      size_t n = std::min(size, c_.buf.size() - pos_);
      std::copy_n(c_.buf.data() + pos_, n, ptr);
      pos_ += n;
      return static_cast<ssize_t>(n);
    }
    for (;;) {
      if (!wait(POLLIN, limits_.read_timeout_ms)) return fail();
      ssize_t n = ::recv(c_.fd, ptr, size, 0);
      if (n >= 0) return n;
      if (errno != EAGAIN && errno != EINTR) return fail();
    }
  }

  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::send(c_.fd, ptr + done, size - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait(POLLOUT, limits_.write_timeout_ms)) return fail();
      } else {
        return fail();
      }
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(c_.fd, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(c_.fd, false, ip, port); }
  socket_t socket() const override { return c_.fd; }

  void set_body_deadline(Clock::time_point t) { body_deadline_ = t; }
  bool broken() const { return broken_; }
  // Bytes after this request (a pipelined next request), kept for the next one.
  void keep_unread() { c_.buf.erase(0, pos_); }

 private:
  // Waits for `events` up to `timeout_ms`, and never past the body deadline.
  bool wait(short events, int timeout_ms) const {
    if (body_deadline_ != Clock::time_point{}) timeout_ms = std::min(timeout_ms, millis_until(body_deadline_));
    pollfd p{c_.fd, events, 0};
    for (;;) {
      int rc = ::poll(&p, 1, timeout_ms);
      if (rc > 0) return true;
      if (rc < 0 && errno == EINTR) continue;
      return false;
    }
  }
  ssize_t fail() {
    broken_ = true;
    return -1;
  }

  Conn& c_;
  const ConnectionLimits& limits_;
  size_t pos_ = 0;
  Clock::time_point body_deadline_{};
  bool broken_ = false;
};

thread_local ConnStream* t_stream = nullptr;
thread_local bool t_response_closes = false;

}  // namespace

void limit_body_time(std::chrono::milliseconds limit) {
  if (t_stream) t_stream->set_body_deadline(Clock::now() + limit);
}

// The task queue httplib's accept loop feeds: runs each accepted socket's job inline (which
// hands the socket to the gate), and owns the gate thread and the workers.
class GatedHttpServer::Gate final : public httplib::TaskQueue {
 public:
  using Serve = std::function<bool(httplib::Stream&, bool close_connection, bool& connection_closed)>;

  Gate(const ConnectionLimits& limits, Serve serve, std::atomic<Gate*>& slot)
      : limits_(limits), serve_(std::move(serve)), slot_(slot) {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
    gate_thread_ = std::thread([this] { gate_loop(); });
    for (size_t i = 0; i < std::max<size_t>(1, limits_.workers); ++i) workers_.emplace_back([this] { work_loop(); });
  }
  ~Gate() override { shutdown(); }

  void enqueue(std::function<void()> fn) override { fn(); }

  void shutdown() override {
    if (stopped_.exchange(true)) return;
    slot_ = nullptr;
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    wake();
    gate_thread_.join();
    for (auto& w : workers_) w.join();
    for (Conn* c : waiting_) close_conn(c);
    for (Conn* c : incoming_) close_conn(c);
    for (Conn* c : ready_) close_conn(c);
    waiting_.clear();
    incoming_.clear();
    ready_.clear();
    ::close(epoll_);
    ::close(wake_);
  }

  void admit(int fd) {
    if (open_.load() >= limits_.max_connections) {
      send_canned(fd, "503 Service Unavailable", R"({"error":"too many connections"})");
      ::close(fd);
      return;
    }
    open_++;
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto* c = new Conn;
    c->fd = fd;
    hand_back(c);
  }

 private:
  void wake() {
    uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
  }

  // A new connection, or one whose request is done: back to the gate for its next head.
  void hand_back(Conn* c) {
    {
      std::lock_guard<std::mutex> l(mu_);
      incoming_.push_back(c);
    }
    wake();
  }

  void close_conn(Conn* c) {
    ::shutdown(c->fd, SHUT_RDWR);
    ::close(c->fd);
    delete c;
    open_--;
  }

  void dispatch(Conn* c) {
    {
      std::lock_guard<std::mutex> l(mu_);
      ready_.push_back(c);
    }
    work_cv_.notify_one();
  }

  void start_waiting(Conn* c) {
    c->deadline = Clock::now() + std::chrono::milliseconds(limits_.head_deadline_ms);
    if (head_complete(c->buf)) return dispatch(c);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = c;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c->fd, &ev) != 0) return close_conn(c);
    waiting_.insert(c);
  }

  void stop_waiting(Conn* c) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c->fd, nullptr);
    waiting_.erase(c);
  }

  // Reads what the socket has; dispatches a complete head, refuses an oversized one.
  void on_readable(Conn* c) {
    char chunk[4096];
    for (;;) {
      ssize_t n = ::recv(c->fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        c->buf.append(chunk, static_cast<size_t>(n));
        if (head_complete(c->buf)) {
          stop_waiting(c);
          return dispatch(c);
        }
        if (c->buf.size() > limits_.max_head_bytes) {
          stop_waiting(c);
          send_canned(c->fd, "431 Request Header Fields Too Large", R"({"error":"request head too large"})");
          return close_conn(c);
        }
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      stop_waiting(c);  // closed by the peer, or an error
      return close_conn(c);
    }
  }

  void sweep_deadlines() {
    auto now = Clock::now();
    std::vector<Conn*> late;
    for (Conn* c : waiting_)
      if (c->deadline <= now) late.push_back(c);
    for (Conn* c : late) {
      stop_waiting(c);
      if (!c->buf.empty()) {
        send_canned(c->fd, "408 Request Timeout", R"({"error":"request head not received in time"})");
      }
      close_conn(c);
    }
  }

  void gate_loop() {
    constexpr int kSweepMs = 50;
    epoll_event events[64];
    auto next_sweep = Clock::now();
    for (;;) {
      int n = ::epoll_wait(epoll_, events, 64, kSweepMs);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.ptr == nullptr) {
          uint64_t v;
          (void)!::read(wake_, &v, sizeof v);
          continue;
        }
        on_readable(static_cast<Conn*>(events[i].data.ptr));
      }
      std::vector<Conn*> arrived;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stopping_) return;
        arrived.swap(incoming_);
      }
      for (Conn* c : arrived) start_waiting(c);
      if (Clock::now() >= next_sweep) {
        sweep_deadlines();
        next_sweep = Clock::now() + std::chrono::milliseconds(kSweepMs);
      }
    }
  }

  void work_loop() {
    for (;;) {
      Conn* c = nullptr;
      {
        std::unique_lock<std::mutex> l(mu_);
        work_cv_.wait(l, [&] { return stopping_ || !ready_.empty(); });
        if (stopping_) return;
        c = ready_.front();
        ready_.pop_front();
      }
      ++c->requests;
      bool last = c->requests >= limits_.keep_alive_max_requests;
      bool connection_closed = false;
      ConnStream strm(*c, limits_);
      t_stream = &strm;
      t_response_closes = false;
      bool ok = serve_(strm, last, connection_closed);
      t_stream = nullptr;
      if (!ok || last || connection_closed || t_response_closes || strm.broken()) {
        close_conn(c);
      } else {
        strm.keep_unread();
        hand_back(c);
      }
    }
  }

  const ConnectionLimits limits_;
  const Serve serve_;
  std::atomic<Gate*>& slot_;  // the server's pointer to this gate
  int epoll_ = -1, wake_ = -1;
  std::thread gate_thread_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stopped_{false};

  std::mutex mu_;  // guards the three below
  bool stopping_ = false;
  std::vector<Conn*> incoming_;
  std::deque<Conn*> ready_;
  std::condition_variable work_cv_;

  std::unordered_set<Conn*> waiting_;  // gate thread only
  std::atomic<size_t> open_{0};
};

GatedHttpServer::GatedHttpServer(const ConnectionLimits& limits) : limits_(limits) {
  new_task_queue = [this]() -> httplib::TaskQueue* {
    auto* gate = new Gate(
        limits_,
        [this](httplib::Stream& strm, bool close_connection, bool& connection_closed) {
          return process_request(strm, close_connection, connection_closed, nullptr);
        },
        gate_);
    gate_ = gate;
    return gate;
  };
  httplib::Server::set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const bool carries_body = req.has_header("Transfer-Encoding") ||
                              (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
    t_response_closes = res.get_header_value("Connection") == "close" || (res.status >= 400 && carries_body);
    if (logger_) logger_(req, res);
  });
}

GatedHttpServer::~GatedHttpServer() { stop(); }

GatedHttpServer& GatedHttpServer::set_logger(httplib::Logger logger) {
  logger_ = std::move(logger);
  return *this;
}

bool GatedHttpServer::process_and_close_socket(socket_t sock) {
  Gate* gate = gate_.load();
  if (!gate) {
    ::close(sock);
    return false;
  }
  gate->admit(sock);
  return true;
}

void GatedHttpServer::widen_listen_backlog() { ::listen(svr_sock_, SOMAXCONN); }

}  // namespace lv::hub
