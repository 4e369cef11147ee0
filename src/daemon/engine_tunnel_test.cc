#include "daemon/engine_tunnel.h"

#include <gtest/gtest.h>

namespace wgate::daemon {
namespace {

TEST(EngineTunnelTest, HealthFromTheFirstPeerOfAUapiReply) {
  TunnelHealth h = ParseUapiHealth(
      "private_key=aa\nlisten_port=51820\npublic_key=bb\nendpoint=198.51.100.1:51820\n"
      "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=500\nrx_bytes=1234\ntx_bytes="
      "99\n"
      "public_key=cc\nrx_bytes=7\nlast_handshake_time_sec=1\nerrno=0\n\n");
  EXPECT_TRUE(h.running);
  EXPECT_EQ(h.rx_bytes, 1234u);
  EXPECT_EQ(h.tx_bytes, 99u);
  ASSERT_TRUE(h.last_handshake);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(h.last_handshake->time_since_epoch())
                .count(),
            1700000000);
  TunnelHealth none = ParseUapiHealth(
      "public_key=bb\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\nerrno=0\n\n");
  EXPECT_FALSE(none.last_handshake);
}

}  // namespace
}  // namespace wgate::daemon
