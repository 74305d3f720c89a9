// The native server's listener, wakeups and batch flushing (see http_server.h). JS thread only.
#include "http_server.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "connection.h"

namespace node_asgi::server {

HttpServer::HttpServer(uv_loop_t* loop, std::shared_ptr<Bridge> bridge, std::shared_ptr<RequestRouter> router,
                       ServerOptions options, std::function<void()> on_closed)
    : loop_(loop),
      bridge_(std::move(bridge)),
      router_(router),
      options_(std::move(options)),
      on_closed_(std::move(on_closed)),
      read_buffer_(new char[kReadBufferSize]) {
  router_->AddListener(this);
  check_ = new uv_check_t;
  uv_check_init(loop_, check_);
  check_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
}

HttpServer::~HttpServer() {
  router_->RemoveListener(this);
  CloseNow();
}

int HttpServer::Listen(const std::string& host, int port, int backlog, std::string* error) {
  sockaddr_storage addr;
  int r = host.find(':') != std::string::npos ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
                                              : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (r != 0) {
    *error = "invalid host '" + host + "' (an IPv4 or IPv6 address is expected)";
    return r;
  }
  listener_ = new uv_tcp_t;
  uv_tcp_init(loop_, listener_);
  listener_->data = this;
  r = uv_tcp_bind(listener_, reinterpret_cast<sockaddr*>(&addr), 0);
  if (r == 0) r = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), backlog, &HttpServer::OnConnection);
  if (r != 0) {
    *error = std::string(uv_err_name(r)) + ": " + uv_strerror(r);
    uv_close(reinterpret_cast<uv_handle_t*>(listener_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
    return r;
  }
  listening_ = true;
  return 0;
}

int HttpServer::Adopt(int fd) {
  if (closing_) {
    close(fd);
    return UV_ECANCELED;
  }
  auto* connection = new Connection(this);
  connections_.insert(connection);
  return connection->Adopt(fd) ? 0 : UV_EINVAL;  // on failure it closes and Forget()s itself
}

const char* AddressOf(const sockaddr_storage& addr, std::string* host, int* port) {
  char text[INET6_ADDRSTRLEN] = "";
  const char* family = "";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    uv_ip4_name(a, text, sizeof text);
    *port = ntohs(a->sin_port);
    family = "IPv4";
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(a, text, sizeof text);
    *port = ntohs(a->sin6_port);
    family = "IPv6";
  }
  *host = text;
  return family;
}

bool HttpServer::Address(std::string* host, int* port, std::string* family) const {
  if (listener_ == nullptr) return false;
  sockaddr_storage addr;
  int length = sizeof addr;
  if (uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) return false;
  *family = AddressOf(addr, host, port);
  return true;
}

void HttpServer::OnConnection(uv_stream_t* listener, int status) {
  auto* self = static_cast<HttpServer*>(listener->data);
  if (status < 0 || self->closing_) return;
  auto* connection = new Connection(self);
  self->connections_.insert(connection);
  connection->Accept(listener);  // on failure it closes and Forget()s itself
}

const std::string& HttpServer::Date() {
  static const std::string none;
  if (!options_.date_header) return none;
  return date_.Get(time(nullptr));
}

void HttpServer::StartRequest(ToLoop&& message) {
  if (bridge_->QueueForLoop(std::move(message))) ArrangeCheck();
}

void HttpServer::ArrangeCheck() {
  if (check_active_ || check_ == nullptr) return;
  check_active_ = true;
  uv_check_start(check_, &HttpServer::OnCheck);
}

// After the poll phase that read the requests: one wakeup for all of them, and the access log
// lines of the turn in one call.
void HttpServer::OnCheck(uv_check_t* check) {
  auto* self = static_cast<HttpServer*>(check->data);
  self->check_active_ = false;
  uv_check_stop(check);
  self->bridge_->WakeLoop();
  if (!self->access_.empty() && self->on_access_log_) {
    std::string lines;
    lines.swap(self->access_);
    self->on_access_log_(std::move(lines));
  }
}

void HttpServer::AccessLog(const std::string& client, const std::string& request_line, int status) {
  if (!options_.access_log || !on_access_log_) return;
  if (!access_.empty()) access_.push_back('\n');
  access_.append(client);
  access_.append(" - \"");
  access_.append(request_line);
  access_.append("\" ");
  access_.append(std::to_string(status));
  ArrangeCheck();
}

void HttpServer::MarkDirty(Connection* connection) { dirty_.push_back(connection); }

void HttpServer::AfterBatch() {
  // Flushing may close connections, which never frees them synchronously (uv_close).
  std::vector<Connection*> dirty;
  dirty.swap(dirty_);
  for (Connection* c : dirty) c->Flush();
}

void HttpServer::Forget(Connection* connection) {
  connections_.erase(connection);
  for (Connection*& c : dirty_) {
    if (c == connection) c = nullptr;
  }
  dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), nullptr), dirty_.end());
  MaybeClosed();
}

void HttpServer::Close(uint64_t idle_grace_ms) {
  if (closing_) return;
  closing_ = true;
  if (listener_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
  }
  for (Connection* c : std::vector<Connection*>(connections_.begin(), connections_.end())) c->Shutdown(idle_grace_ms);
  MaybeClosed();
}

void HttpServer::CloseNow() {
  Close();
  for (Connection* c : std::vector<Connection*>(connections_.begin(), connections_.end())) c->Destroy();
  if (check_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(check_), [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
    check_ = nullptr;
    if (check_active_) bridge_->WakeLoop();
    check_active_ = false;
  }
}

void HttpServer::MaybeClosed() {
  if (!closing_ || !connections_.empty()) return;
  if (closed_ && !on_closed_) return;
  closed_ = true;
  if (on_closed_) {
    auto done = std::move(on_closed_);
    on_closed_ = nullptr;
    done();
  }
}

}  // namespace node_asgi::server
