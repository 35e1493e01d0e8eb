#include "agent/admin.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace loom::agent {
namespace {

Status fillAddr(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return invalidField("admin-socket", "path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return okStatus();
}

bool writeAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

AdminServer::AdminServer(std::string path, int fd, Handler handler)
    : path_(std::move(path)), fd_(fd), handler_(std::move(handler)) {
  thread_ = std::thread([this] { loop(); });
}

AdminServer::~AdminServer() { stop(); }

StatusOr<std::unique_ptr<AdminServer>> AdminServer::start(const std::string& path,
                                                          Handler handler) {
  sockaddr_un addr;
  RETURN_IF_ERROR(fillAddr(path, addr));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return internalError(std::string("admin socket: ") + std::strerror(errno));
  ::unlink(path.c_str());  // A previous agent's socket (it is gone, or we could not bind).
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    int e = errno;
    ::close(fd);
    return unavailable("admin socket " + path + ": " + std::strerror(e));
  }
  ::chmod(path.c_str(), 0600);
  return std::unique_ptr<AdminServer>(new AdminServer(path, fd, std::move(handler)));
}

void AdminServer::stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
  ::unlink(path_.c_str());
}

void AdminServer::loop() {
  while (!stopping_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    timeval tv{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string line;
    char buf[512];
    while (line.find('\n') == std::string::npos && line.size() < 4096) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    line = line.substr(0, line.find('\n'));
    writeAll(c, handler_(line));
    ::close(c);
  }
}

StatusOr<std::string> adminRequest(const std::string& path, const std::string& command) {
  sockaddr_un addr;
  RETURN_IF_ERROR(fillAddr(path, addr));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return internalError(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    return unavailable("cannot reach the agent at " + path + ": " + std::strerror(e));
  }
  if (!writeAll(fd, command + "\n")) {
    ::close(fd);
    return unavailable("send to " + path + " failed");
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace loom::agent
