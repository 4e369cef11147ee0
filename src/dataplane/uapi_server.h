// UapiServer: the UAPI unix socket (/var/run/wireguard/IFACE.sock) that `wg` and `wg-quick` talk
// to, served from an EventLoop. It frames requests ("get=1\n\n", "set=1\n...\n\n"), hands them to
// a UapiHandler (the engine), and writes "errno=N" replies, keeping a connection open for further
// requests as the reference daemon does. A first line other than get=1/set=1 closes the
// connection without a reply, as wireguard-go does.
//
// Thread-safety: all methods on the loop's thread; the handler is called there too.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"
#include "dataplane/event_loop.h"
#include "dataplane/uapi.h"

namespace wgate::dataplane {

class UapiHandler {
 public:
  virtual ~UapiHandler() = default;
  virtual uapi::DeviceState Get() = 0;
  // Applies a parsed set request. Returns 0, or a negative errno for the reply (with *failure
  // saying why, for the log).
  virtual int Set(const uapi::SetRequest& request, uapi::Failure* failure) = 0;
};

// Handles the complete requests at the front of `buffer`, appending replies to `reply` and
// removing what it consumed. Returns false when the connection must be closed (an unknown
// operation, or a request larger than kMaxRequest). Pure framing; exposed for tests.
inline constexpr size_t kMaxUapiRequest = 1 << 22;
bool ServeUapiBuffer(std::string* buffer, std::string* reply, UapiHandler& handler);

class UapiServer {
 public:
  inline static constexpr std::string_view kDefaultDir = "/var/run/wireguard";

  // Creates `dir` (0755) if needed and listens on dir/IFACE.sock (owner only: umask 077). A stale
  // socket file nobody answers on is replaced; a live one is an error ("in use"), as wireguard-go
  // does.
  static Result<std::unique_ptr<UapiServer>> Listen(std::string_view dir, std::string_view iface,
                                                    EventLoop* loop, UapiHandler* handler);
  // Stops listening, closes connections and removes the socket file.
  ~UapiServer();

  const std::string& path() const { return path_; }

 private:
  struct Connection {
    UniqueFd fd;
    std::string in;
  };
  UapiServer(std::string path, UniqueFd fd, EventLoop* loop, UapiHandler* handler)
      : path_(std::move(path)), listen_(std::move(fd)), loop_(loop), handler_(handler) {}
  void Accept();
  void Readable(int fd);
  void Close(int fd);

  std::string path_;
  UniqueFd listen_;
  EventLoop* loop_;
  UapiHandler* handler_;
  std::map<int, Connection> connections_;
};

}  // namespace wgate::dataplane
