#include "daemon/control.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "daemon/file_util.h"

namespace wgate::daemon {

namespace {

constexpr size_t kMaxRequest = 256;

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Error("control socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// Waits for `events` on fd until `deadline`; false on timeout.
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

}  // namespace

namespace {

Result<std::string> SocketPath(const std::string& dir, std::string_view prefix) {
  Result<uint64_t> ino = NetnsInode();
  if (!ino.ok()) return ino.error();
  return StrCat(dir, "/", prefix, "-net", *ino, ".sock");
}

}  // namespace

Result<std::string> ControlSocketPath(const std::string& dir) { return SocketPath(dir, "ctl"); }

Result<std::string> HoldSocketPath(const std::string& dir) { return SocketPath(dir, "hold"); }

Result<ControlServer> ControlServer::Listen(const std::string& path) {
  auto addr = Address(path);
  if (!addr.ok()) return addr.error();
  if (Status s = EnsureParentDir(path, 0700); !s.ok()) return s.error();
  if (FileExists(path)) {
    auto probe = ControlRequest(path, "ping", std::chrono::milliseconds(500));
    if (probe.ok() ||
        (probe.error().sys_errno() != ECONNREFUSED && probe.error().sys_errno() != ENOENT)) {
      return Error(
          "another wgate daemon is already running in this network namespace (control socket " +
          path + ")");
    }
    ::unlink(path.c_str());  // stale: its daemon was killed
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Error::FromErrno("socket(AF_UNIX)", errno);
  mode_t old = ::umask(0077);
  int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
  ::umask(old);
  if (rc != 0) return Error::FromErrno("bind " + path, errno);
  if (::listen(fd.get(), 8) != 0) return Error::FromErrno("listen " + path, errno);
  return ControlServer(std::move(fd), path);
}

ControlServer::~ControlServer() {
  if (fd_.valid()) ::unlink(path_.c_str());
}

void ControlServer::ServeOne(const std::function<std::string(std::string_view)>& handler) {
  UniqueFd client(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!client) return;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(client.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      (cred.uid != 0 && cred.uid != ::getuid())) {
    LogWarn(StrCat("control socket: refused a client with uid ", cred.uid));
    return;
  }
  std::string request;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  char buf[kMaxRequest];
  while (request.find('\n') == std::string::npos && request.size() < kMaxRequest) {
    if (!WaitFor(client.get(), POLLIN, deadline)) return;
    ssize_t n = ::recv(client.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  std::string reply = handler(TrimSpace(request.substr(0, request.find('\n')))) + "\n";
  size_t done = 0;
  while (done < reply.size()) {
    if (!WaitFor(client.get(), POLLOUT, deadline)) return;
    ssize_t n =
        ::send(client.get(), reply.data() + done, reply.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

Result<ControlServer> ListenAt(const Result<std::string>& path) {
  if (!path.ok()) return path.error();
  return ControlServer::Listen(*path);
}

std::string ControlReply(bool ok, std::string_view message) {
  return nlohmann::json{{"ok", ok}, {"message", message}}.dump();
}

std::string UnknownControlRequest(std::string_view request) {
  return ControlReply(false, "unknown request \"" + std::string(request) + "\"");
}

Result<std::string> ControlRequest(const std::string& path, std::string_view request,
                                   std::chrono::milliseconds timeout) {
  auto addr = Address(path);
  if (!addr.ok()) return addr.error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno("socket(AF_UNIX)", errno);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    return Error::FromErrno("connect " + path, errno);
  }
  std::string line = std::string(request) + "\n";
  if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(line.size())) {
    return Error::FromErrno("send " + path, errno);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string reply;
  char buf[4096];
  while (true) {
    if (!WaitFor(fd.get(), POLLIN, deadline))
      return Error("no answer from the wgate daemon on " + path + " (timed out)");
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("recv " + path, errno);
    if (n == 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  return std::string(TrimSpace(reply));
}

}  // namespace wgate::daemon
