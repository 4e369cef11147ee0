#include "base/ip.h"

#include <gtest/gtest.h>

namespace wgate {
namespace {

TEST(IpTest, ParsesAndPrintsBothFamilies) {
  auto v4 = IpAddress::Parse("192.0.2.7");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->ToString(), "192.0.2.7");
  auto v6 = IpAddress::Parse("fd00:0::1");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->ToString(), "fd00::1");
  EXPECT_FALSE(IpAddress::Parse("192.0.2.256"));
  EXPECT_FALSE(IpAddress::Parse("1.2.3"));
  EXPECT_FALSE(IpAddress::Parse(""));
  EXPECT_FALSE(IpAddress::Parse("fd00::1::2"));
}

TEST(IpTest, PrefixParseAndErrors) {
  std::string why;
  auto p = IpPrefix::Parse("10.64.0.2/24", &why);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ToString(), "10.64.0.2/24");
  EXPECT_EQ(p->Network().ToString(), "10.64.0.0/24");
  EXPECT_EQ(IpPrefix::Parse("::0/0")->ToString(), "::/0");
  EXPECT_EQ(IpPrefix::Parse("198.51.100.1")->len, 32);
  EXPECT_FALSE(IpPrefix::Parse("10.0.0.1/33", &why));
  EXPECT_EQ(why, "prefix length 33 is out of range 0-32");
  EXPECT_FALSE(IpPrefix::Parse("fd00::/129", &why));
  EXPECT_EQ(why, "prefix length 129 is out of range 0-128");
  EXPECT_FALSE(IpPrefix::Parse("10.0.0.1/", &why));
  EXPECT_EQ(why, "prefix length \"\" is not a number");
  EXPECT_FALSE(IpPrefix::Parse("10.0.0.1/2x", &why));
  EXPECT_FALSE(IpPrefix::Parse("example.com/24", &why));
  EXPECT_EQ(why, "\"example.com\" is not an IP address");
}

TEST(IpTest, PrefixContains) {
  auto p = *IpPrefix::Parse("198.51.100.0/23");
  EXPECT_TRUE(p.Contains(*IpAddress::Parse("198.51.101.200")));
  EXPECT_FALSE(p.Contains(*IpAddress::Parse("198.51.102.1")));
  EXPECT_FALSE(p.Contains(*IpAddress::Parse("::1")));
  EXPECT_TRUE(IpPrefix::Parse("::/0")->Contains(*IpAddress::Parse("fd00::5")));
}

TEST(IpTest, SocketAddress) {
  auto a = SocketAddress::Parse("[fd00::1]:51820");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 51820);
  EXPECT_EQ(a->ToString(), "[fd00::1]:51820");
  EXPECT_EQ(SocketAddress::Parse("192.0.2.1:1")->ToString(), "192.0.2.1:1");
  EXPECT_FALSE(SocketAddress::Parse("192.0.2.1"));
  EXPECT_FALSE(SocketAddress::Parse("192.0.2.1:65536"));
  EXPECT_FALSE(SocketAddress::Parse("fd00::1:80"));
  EXPECT_FALSE(SocketAddress::Parse("[fd00::1]"));
  sockaddr_storage ss;
  socklen_t len = a->ToSockaddr(&ss);
  auto back = SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *a);
}

}  // namespace
}  // namespace wgate
