#include "dataplane/uapi_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/temp_dir.h"

namespace wgate::dataplane {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class RecordingHandler : public UapiHandler {
 public:
  uapi::DeviceState Get() override {
    ++gets;
    uapi::DeviceState s;
    s.listen_port = 51820;
    return s;
  }
  int Set(const uapi::SetRequest& request, uapi::Failure* failure) override {
    sets.push_back(request.listen_port.value_or(0));
    if (request.listen_port == 1) {
      failure->message = "port 1 is taken";
      return uapi::kErrorPortInUse;
    }
    return 0;
  }
  int gets = 0;
  std::vector<uint16_t> sets;
};

class UapiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    auto server = UapiServer::Listen(dir_.path() + "/wireguard", "wgtest0", loop_.get(), &handler_);
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(*server);
  }

  UniqueFd Connect() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, server_->path().c_str());
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    return fd;
  }

  // Sends `request` and runs the loop until a reply ending in a blank line arrives (or the
  // server closes: then returns what came, plus "<closed>").
  std::string Exchange(int fd, std::string_view request, size_t replies = 1) {
    EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    std::string got;
    size_t complete = 0;
    for (int i = 0; i < 100 && complete < replies; ++i) {
      (void)loop_->RunOnce(20);
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0) return got + "<closed>";
      if (n > 0) got.append(buf, n);
      complete = 0;
      for (size_t p = got.find("\n\n"); p != std::string::npos; p = got.find("\n\n", p + 2)) {
        ++complete;
      }
    }
    return got;
  }

  TempDir dir_;
  RecordingHandler handler_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<UapiServer> server_;
};

TEST_F(UapiServerTest, SocketIsPrivateAndNamedAfterTheInterface) {
  EXPECT_EQ(server_->path(), dir_.path() + "/wireguard/wgtest0.sock");
  struct stat st;
  ASSERT_EQ(::stat(server_->path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 077, 0u);  // owner only (umask 077), as wireguard-go
}

TEST_F(UapiServerTest, GetAndSetOnOneConnection) {
  UniqueFd c = Connect();
  EXPECT_EQ(Exchange(c.get(), "get=1\n\n"), "listen_port=51820\nerrno=0\n\n");
  EXPECT_EQ(Exchange(c.get(), "set=1\nlisten_port=7\n\n"), "errno=0\n\n");
  EXPECT_EQ(Exchange(c.get(), "set=1\n\n"), "errno=0\n\n");
  EXPECT_EQ(handler_.gets, 1);
  EXPECT_EQ(handler_.sets, (std::vector<uint16_t>{7, 0}));
}

TEST_F(UapiServerTest, RequestsSplitAcrossWritesAndPipelined) {
  UniqueFd c = Connect();
  EXPECT_EQ(Exchange(c.get(), "set=1\nlisten_", 0), "");
  EXPECT_EQ(Exchange(c.get(), "port=9\n\nget=1\n\n", 2),
            "errno=0\n\nlisten_port=51820\nerrno=0\n\n");
  EXPECT_EQ(handler_.sets, std::vector<uint16_t>{9});
}

TEST_F(UapiServerTest, ErrorsAreReportedAsErrnoAndTheConnectionStaysUsable) {
  UniqueFd c = Connect();
  EXPECT_EQ(Exchange(c.get(), "set=1\nbogus=1\n\n"), "errno=-22\n\n");
  EXPECT_EQ(Exchange(c.get(), "set=1\nlisten_port\n\n"), "errno=-71\n\n");
  EXPECT_EQ(Exchange(c.get(), "set=1\nlisten_port=1\n\n"), "errno=-98\n\n");
  EXPECT_EQ(Exchange(c.get(), "get=1\nx"), "errno=-22\n\n");
  EXPECT_THAT(Exchange(c.get(), "get=1\n\n"), StartsWith("listen_port=51820"));
}

TEST_F(UapiServerTest, UnknownOperationClosesWithoutReply) {
  UniqueFd c = Connect();
  EXPECT_EQ(Exchange(c.get(), "hello\n"), "<closed>");
}

TEST_F(UapiServerTest, SecondServerOnALiveSocketIsRefusedAStaleOneReplaced) {
  auto again = UapiServer::Listen(dir_.path() + "/wireguard", "wgtest0", loop_.get(), &handler_);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message(), HasSubstr("in use"));

  // A socket file left behind by a dead process (bound, never listening, closed).
  const std::string stale = dir_.path() + "/wireguard/wgtest1.sock";
  {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, stale.c_str());
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  auto replaced = UapiServer::Listen(dir_.path() + "/wireguard", "wgtest1", loop_.get(), &handler_);
  ASSERT_TRUE(replaced.ok()) << replaced.error().message();
  replaced->reset();
  EXPECT_NE(::access(stale.c_str(), F_OK), 0);  // removed on destruction
}

TEST(ServeUapiBufferTest, OversizedIncompleteRequestClosesTheConnection) {
  RecordingHandler handler;
  std::string buffer = "set=1\n" + std::string(kMaxUapiRequest, 'a');
  std::string reply;
  EXPECT_FALSE(ServeUapiBuffer(&buffer, &reply, handler));
  EXPECT_TRUE(reply.empty());
}

}  // namespace
}  // namespace wgate::dataplane
