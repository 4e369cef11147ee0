// The daemon's control socket: `wgate status` and `wgate down` talk to `wgate run` through it.
//
// A unix socket in the gateway's own filesystem, named after the network namespace's inode
// (/run/wgate/ctl-net4026532281.sock): consumer containers share the gateway's network namespace
// but not its filesystem, so they cannot reach it (an abstract socket would let any consumer
// unblock the namespace); and several daemons in different namespaces on one host never collide.
// Peers must be root or the daemon's own user (SO_PEERCRED).
//
// Protocol: the client sends one request line ("status", "down", "down --unblock"); the server
// answers one JSON document and closes.
//
// Thread-safety: none; the daemon's main loop owns the server.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"

namespace wgate::daemon {

inline constexpr char kControlDir[] = "/run/wgate";

// The socket path for the calling thread's network namespace, under `dir`.
Result<std::string> ControlSocketPath(const std::string& dir = kControlDir);
// The namespace holder's (`wgate hold`) socket: /run/wgate/hold-net<ino>.sock. Its own name, so
// that a holder and a gateway sharing one filesystem (tests in namespaces) never collide, and
// `wgate status` in a container finds whichever of the two runs there.
Result<std::string> HoldSocketPath(const std::string& dir = kControlDir);

class ControlServer {
 public:
  // Binds and listens. A stale socket file (its daemon died) is replaced; a live one means another
  // wgate already runs in this namespace: an error saying so.
  static Result<ControlServer> Listen(const std::string& path);
  ~ControlServer();
  ControlServer(ControlServer&&) = default;
  ControlServer& operator=(ControlServer&&) = default;

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

  // Accepts one pending client (call when fd() is readable), reads its request line (bounded in
  // size and time), answers with handler(request) and closes.
  void ServeOne(const std::function<std::string(std::string_view request)>& handler);

 private:
  ControlServer(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

// Listens on `path` as ControlSocketPath or HoldSocketPath gave it: either one's error, or
// Listen's. The daemons' start-up (`wgate run`, `wgate hold`).
Result<ControlServer> ListenAt(const Result<std::string>& path);

// The JSON replies of a control request that acts: {"ok": ok, "message": message}; and the one
// for a request the daemon does not know.
std::string ControlReply(bool ok, std::string_view message);
std::string UnknownControlRequest(std::string_view request);

// Sends `request` and returns the reply. An absent or refusing socket is an error whose
// sys_errno() is ENOENT or ECONNREFUSED (the CLI turns it into "no wgate daemon is running").
Result<std::string> ControlRequest(const std::string& path, std::string_view request,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace wgate::daemon
