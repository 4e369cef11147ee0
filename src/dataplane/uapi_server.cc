#include "dataplane/uapi_server.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/log.h"
#include "base/strings.h"

namespace wgate::dataplane {

namespace {

// A reply is small; a client that does not read it within this long is dropped.
constexpr int kWriteTimeoutMs = 2000;
constexpr size_t kMaxConnections = 64;

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd pfd{fd, POLLOUT, 0};
        if (::poll(&pfd, 1, kWriteTimeoutMs) <= 0) return false;
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Error(StrCat("socket path too long: ", path));
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

}  // namespace

bool ServeUapiBuffer(std::string* buffer, std::string* reply, UapiHandler& handler) {
  for (;;) {
    const size_t nl = buffer->find('\n');
    if (nl == std::string::npos) return buffer->size() <= kMaxUapiRequest;
    const uapi::Operation op = uapi::ParseOperation(std::string_view(*buffer).substr(0, nl));
    if (op == uapi::Operation::kInvalid) {
      LogWarn("uapi: invalid operation; closing the connection");
      return false;
    }
    if (op == uapi::Operation::kGet) {
      if (buffer->size() < nl + 2) return true;  // wait for the blank line
      const bool blank = (*buffer)[nl + 1] == '\n';
      buffer->erase(0, nl + 2);
      if (!blank) {
        LogWarn("uapi: trailing character in get request");
        reply->append(uapi::FormatErrno(uapi::kErrorInvalid));
        continue;
      }
      reply->append(uapi::FormatGet(handler.Get()));
      continue;
    }
    // set=1: the body runs to the first blank line ("\n\n"; an empty body is just "\n").
    size_t end;
    if (buffer->size() > nl + 1 && (*buffer)[nl + 1] == '\n') {
      end = nl + 2;
    } else {
      const size_t blank = buffer->find("\n\n", nl + 1);
      if (blank == std::string::npos) return buffer->size() <= kMaxUapiRequest;
      end = blank + 2;
    }
    uapi::Failure failure;
    auto request = uapi::ParseSet(std::string_view(*buffer).substr(nl + 1, end - nl - 1), &failure);
    int code = 0;
    if (request.ok()) {
      code = handler.Set(*request, &failure);
    } else {
      code = failure.code;
    }
    // The parsed request may hold secrets; the buffer does too: wipe before erasing.
    crypto::SecureZero(buffer->data(), end);
    buffer->erase(0, end);
    if (code != 0) LogWarn(StrCat("uapi: set failed (errno ", code, "): ", failure.message));
    reply->append(uapi::FormatErrno(code));
  }
}

Result<std::unique_ptr<UapiServer>> UapiServer::Listen(std::string_view dir, std::string_view iface,
                                                       EventLoop* loop, UapiHandler* handler) {
  const std::string dir_str(dir);
  if (::mkdir(dir_str.c_str(), 0755) < 0 && errno != EEXIST) {
    return Error::FromErrno(StrCat("mkdir ", dir), errno);
  }
  const std::string path = StrCat(dir, "/", iface, ".sock");
  auto addr = UnixAddress(path);
  if (!addr.ok()) return std::move(addr).error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno("socket AF_UNIX", errno);
  const mode_t old_umask = ::umask(0077);
  int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  if (rc < 0 && errno == EADDRINUSE) {
    // Stale file from a process that died, or a live daemon?
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe &&
        ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) == 0) {
      ::umask(old_umask);
      return Error(StrCat("UAPI socket ", path, " is in use by another process"), EADDRINUSE);
    }
    ::unlink(path.c_str());
    rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  }
  const int bind_errno = errno;
  ::umask(old_umask);
  if (rc < 0) return Error::FromErrno(StrCat("bind ", path), bind_errno);
  if (::listen(fd.get(), 16) < 0) return Error::FromErrno(StrCat("listen ", path), errno);
  std::unique_ptr<UapiServer> server(new UapiServer(path, std::move(fd), loop, handler));
  UapiServer* s = server.get();
  Status added = loop->Add(s->listen_.get(), [s](uint32_t) { s->Accept(); });
  if (!added.ok()) return added.error();
  return server;
}

UapiServer::~UapiServer() {
  while (!connections_.empty()) Close(connections_.begin()->first);
  (void)loop_->Remove(listen_.get());
  ::unlink(path_.c_str());
}

void UapiServer::Accept() {
  for (;;) {
    UniqueFd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!c) return;                                        // EAGAIN, or a client that went away
    if (connections_.size() >= kMaxConnections) continue;  // closes it
    const int fd = c.get();
    if (!loop_->Add(fd, [this, fd](uint32_t) { Readable(fd); }).ok()) continue;
    connections_[fd] = Connection{std::move(c), {}};
  }
}

void UapiServer::Readable(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& conn = it->second;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      conn.in.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    // EOF or error: serve what is complete, then close. (`wg` half-closes after a request.)
    std::string reply;
    ServeUapiBuffer(&conn.in, &reply, *handler_);
    if (!reply.empty()) WriteAll(fd, reply);
    Close(fd);
    return;
  }
  std::string reply;
  const bool keep = ServeUapiBuffer(&conn.in, &reply, *handler_);
  if (!reply.empty() && !WriteAll(fd, reply)) {
    Close(fd);
    return;
  }
  if (!keep) Close(fd);
}

void UapiServer::Close(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  (void)loop_->Remove(fd);
  crypto::SecureZero(it->second.in.data(), it->second.in.size());
  connections_.erase(it);
}

}  // namespace wgate::dataplane
