#include "daemon/control.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/temp_dir.h"

namespace wgate::daemon {
namespace {

// As the daemon's loop does: serve only once a client is waiting.
void ServeWhenReady(ControlServer& server,
                    const std::function<std::string(std::string_view)>& handler) {
  pollfd p{server.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
  server.ServeOne(handler);
}

TEST(ControlTest, PathIsPerNetworkNamespace) {
  auto p = ControlSocketPath("/run/wgate");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->rfind("/run/wgate/ctl-net", 0), 0u);
  EXPECT_EQ(p->substr(p->size() - 5), ".sock");
}

TEST(ControlTest, RequestReplyAndSecondDaemonRefused) {
  TempDir dir;
  std::string path = dir.path() + "/run/ctl.sock";
  auto server = ControlServer::Listen(path);
  ASSERT_TRUE(server.ok()) << server.error().message();
  std::thread t([&] {  // the listening socket is non-blocking: wait for the client first
    ServeWhenReady(*server,
                   [](std::string_view req) { return "{\"echo\":\"" + std::string(req) + "\"}"; });
  });
  auto reply = ControlRequest(path, "status");
  t.join();
  ASSERT_TRUE(reply.ok()) << reply.error().message();
  EXPECT_EQ(*reply, "{\"echo\":\"status\"}");

  std::thread pinger([&] { ServeWhenReady(*server, [](std::string_view) { return "{}"; }); });
  auto second = ControlServer::Listen(path);
  pinger.join();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message(),
            "another wgate daemon is already running in this network namespace (control socket " +
                path + ")");
}

TEST(ControlTest, StaleSocketIsReplacedAndAbsentDaemonIsReported) {
  TempDir dir;
  std::string path = dir.path() + "/ctl.sock";
  auto missing = ControlRequest(path, "status");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().sys_errno(), ENOENT);
  // A daemon that was SIGKILLed leaves its socket file behind, with nobody listening.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto server = ControlServer::Listen(path);
    if (!server.ok()) _exit(1);
    pause();
    _exit(0);
  }
  for (int i = 0; i < 500 && access(path.c_str(), F_OK) != 0; ++i) usleep(10000);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  auto refused = ControlRequest(path, "status");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().sys_errno(), ECONNREFUSED);
  auto replaced = ControlServer::Listen(path);
  EXPECT_TRUE(replaced.ok()) << replaced.error().message();
}

}  // namespace
}  // namespace wgate::daemon
