#include "netlink/message.h"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "netlink/test_values.h"

namespace wgate::netlink {
namespace {

using test_values::A;
using test_values::P;

template <typename T>
const T* Header(const nlmsghdr* nlh) {
  return static_cast<const T*>(mnl_nlmsg_get_payload(nlh));
}

// The attribute of `type` after a family header of `len` bytes, or nullptr.
const nlattr* FindAttr(const nlmsghdr* nlh, size_t len, uint16_t type) {
  struct Search {
    uint16_t type;
    const nlattr* found;
  } search{type, nullptr};
  mnl_attr_parse(
      nlh, static_cast<unsigned>(len),
      [](const nlattr* a, void* data) {
        auto* s = static_cast<Search*>(data);
        if (mnl_attr_get_type(a) == s->type) s->found = a;
        return MNL_CB_OK;
      },
      &search);
  return search.found;
}

TEST(BuildRouteTest, DefaultRouteIntoANumberedTable) {
  RequestBuffer buf;
  Route r;
  r.dst = P("0.0.0.0/0");
  r.ifindex = 7;
  r.table = 51820;
  const nlmsghdr* nlh = BuildRoute(buf.span(), RouteWrite::kAdd, r);
  EXPECT_EQ(nlh->nlmsg_type, RTM_NEWROUTE);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const auto* rtm = Header<rtmsg>(nlh);
  EXPECT_EQ(rtm->rtm_family, AF_INET);
  EXPECT_EQ(rtm->rtm_dst_len, 0);
  // Table ids above 255 do not fit the header: RT_TABLE_UNSPEC there, the id in RTA_TABLE.
  EXPECT_EQ(rtm->rtm_table, RT_TABLE_UNSPEC);
  EXPECT_EQ(mnl_attr_get_u32(FindAttr(nlh, sizeof(rtmsg), RTA_TABLE)), 51820u);
  EXPECT_EQ(rtm->rtm_type, RTN_UNICAST);
  EXPECT_EQ(rtm->rtm_scope, RT_SCOPE_LINK);  // no gateway: on-link, like `ip route add dev`
  EXPECT_EQ(rtm->rtm_protocol, RTPROT_BOOT);
  EXPECT_EQ(FindAttr(nlh, sizeof(rtmsg), RTA_DST), nullptr);  // a default route has no RTA_DST
  EXPECT_EQ(FindAttr(nlh, sizeof(rtmsg), RTA_GATEWAY), nullptr);

  Result<Route> back = ParseRoute(nlh);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->ToString(), "0.0.0.0/0 ifindex 7 table 51820");
}

TEST(BuildRouteTest, GatewayMetricMtuRoundTrip) {
  RequestBuffer buf;
  Route r;
  r.dst = P("fd00:1::5/64");
  r.ifindex = 3;
  r.gateway = A("fd00:1::1");
  r.prefsrc = A("fd00:1::2");
  r.metric = 100;
  r.mtu = 1380;
  const nlmsghdr* nlh = BuildRoute(buf.span(), RouteWrite::kReplace, r);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  const auto* rtm = Header<rtmsg>(nlh);
  EXPECT_EQ(rtm->rtm_family, AF_INET6);
  EXPECT_EQ(rtm->rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
  Result<Route> back = ParseRoute(nlh);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->dst, P("fd00:1::/64"));  // the network, host bits cleared
  EXPECT_EQ(back->gateway, A("fd00:1::1"));
  EXPECT_EQ(back->prefsrc, A("fd00:1::2"));
  EXPECT_EQ(back->metric, 100u);
  EXPECT_EQ(back->mtu, 1380u);
  EXPECT_EQ(back->ifindex, 3);
  EXPECT_EQ(back->table, kTableMain);
}

TEST(BuildRouteTest, BlackholeAndDelete) {
  RequestBuffer buf;
  Route r;
  r.dst = P("::/0");
  r.type = RouteType::kBlackhole;
  r.table = 100;
  const nlmsghdr* nlh = BuildRoute(buf.span(), RouteWrite::kAdd, r);
  const auto* rtm = Header<rtmsg>(nlh);
  EXPECT_EQ(rtm->rtm_type, RTN_BLACKHOLE);
  EXPECT_EQ(rtm->rtm_table, 100);
  EXPECT_EQ(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
  EXPECT_EQ(FindAttr(nlh, sizeof(rtmsg), RTA_OIF), nullptr);
  EXPECT_EQ(ParseRoute(nlh)->ToString(), "blackhole ::/0 table 100");

  r.type = RouteType::kUnreachable;
  r.mtu = 1000;  // not a match criterion: left out of a delete
  nlh = BuildRoute(buf.span(), RouteWrite::kDelete, r);
  rtm = Header<rtmsg>(nlh);
  EXPECT_EQ(nlh->nlmsg_type, RTM_DELROUTE);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(rtm->rtm_type, RTN_UNREACHABLE);
  EXPECT_EQ(rtm->rtm_scope, RT_SCOPE_NOWHERE);  // wildcard, as `ip route del`
  EXPECT_EQ(rtm->rtm_protocol, 0);
  EXPECT_EQ(FindAttr(nlh, sizeof(rtmsg), RTA_METRICS), nullptr);
}

TEST(ParseRouteTest, V6BlackholesOnLoHaveNoDevice) {
  RequestBuffer buf;
  Route r;
  r.dst = P("::/0");
  r.type = RouteType::kProhibit;
  r.ifindex = 1;  // the kernel reports these on lo
  Result<Route> back = ParseRoute(BuildRoute(buf.span(), RouteWrite::kAdd, r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ifindex, 0);
  EXPECT_EQ(back->type, RouteType::kProhibit);
}

TEST(BuildLookupRouteTest, CarriesDestinationAndMark) {
  RequestBuffer buf;
  const nlmsghdr* nlh = BuildLookupRoute(buf.span(), A("203.0.113.5"), 0xca6c);
  EXPECT_EQ(nlh->nlmsg_type, RTM_GETROUTE);
  EXPECT_EQ(nlh->nlmsg_flags & NLM_F_DUMP, 0);
  EXPECT_EQ(Header<rtmsg>(nlh)->rtm_dst_len, 32);
  EXPECT_EQ(mnl_attr_get_u32(FindAttr(nlh, sizeof(rtmsg), RTA_MARK)), 0xca6cu);
  const nlattr* dst = FindAttr(nlh, sizeof(rtmsg), RTA_DST);
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(mnl_attr_get_payload_len(dst), 4);
  Result<RouteLookup> back = ParseRouteLookup(nlh);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->dst, A("203.0.113.5"));

  nlh = BuildLookupRoute(buf.span(), A("fd00::5"), std::nullopt);
  EXPECT_EQ(Header<rtmsg>(nlh)->rtm_dst_len, 128);
  EXPECT_EQ(FindAttr(nlh, sizeof(rtmsg), RTA_MARK), nullptr);
}

TEST(BuildAddressTest, V6SkipsDuplicateAddressDetection) {
  RequestBuffer buf;
  const nlmsghdr* nlh = BuildAddress(buf.span(), RTM_NEWADDR, 4, P("fd00::2/64"));
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const auto* ifa = Header<ifaddrmsg>(nlh);
  EXPECT_EQ(ifa->ifa_family, AF_INET6);
  EXPECT_EQ(ifa->ifa_prefixlen, 64);
  EXPECT_EQ(ifa->ifa_index, 4u);
  EXPECT_EQ(ifa->ifa_flags, IFA_F_NODAD);
  EXPECT_EQ(mnl_attr_get_u32(FindAttr(nlh, sizeof(ifaddrmsg), IFA_FLAGS)), IFA_F_NODAD);
  Result<Address> back = ParseAddress(nlh);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->prefix, P("fd00::2/64"));  // host bits kept: it is the interface's address
  EXPECT_EQ(back->ifindex, 4);
  EXPECT_EQ(back->flags, IFA_F_NODAD);

  nlh = BuildAddress(buf.span(), RTM_DELADDR, 4, P("192.0.2.2/24"));
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(Header<ifaddrmsg>(nlh)->ifa_flags, 0);
  EXPECT_EQ(ParseAddress(nlh)->prefix, P("192.0.2.2/24"));
}

TEST(BuildRuleTest, WgQuickRulesRoundTrip) {
  RequestBuffer buf;
  Rule r;
  r.invert = true;
  r.fwmark = 0xca6c;
  r.table = 51820;
  const nlmsghdr* nlh = BuildRule(buf.span(), RTM_NEWRULE, r);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const auto* frh = Header<fib_rule_hdr>(nlh);
  EXPECT_EQ(frh->family, AF_INET);
  EXPECT_EQ(frh->flags, FIB_RULE_INVERT);
  EXPECT_EQ(frh->action, FR_ACT_TO_TBL);
  EXPECT_EQ(frh->table, RT_TABLE_UNSPEC);
  EXPECT_EQ(FindAttr(nlh, sizeof(fib_rule_hdr), FRA_PRIORITY), nullptr);  // the kernel picks
  Result<Rule> back = ParseRule(nlh);
  ASSERT_TRUE(back);
  r.priority = 0;  // absent in a message means 0, as in the kernel's dumps of the local rule
  EXPECT_EQ(*back, r);

  Rule s;
  s.family = IpAddress::Family::kV6;
  s.suppress_prefixlength = 0;
  s.src = P("fd00::10/128");
  s.priority = 100;
  nlh = BuildRule(buf.span(), RTM_DELRULE, s);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(Header<fib_rule_hdr>(nlh)->src_len, 128);
  EXPECT_EQ(Header<fib_rule_hdr>(nlh)->table, RT_TABLE_MAIN);
  back = ParseRule(nlh);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
}

TEST(ParseRuleTest, NoSuppressionIsMinusOne) {
  RequestBuffer buf;
  Rule r;
  r.suppress_prefixlength = 0xffffffff;
  Result<Rule> back = ParseRule(BuildRule(buf.span(), RTM_NEWRULE, r));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->suppress_prefixlength.has_value());
}

TEST(BuildLinkTest, SetUpAndMtuTouchOnlyWhatIsAsked) {
  RequestBuffer buf;
  const nlmsghdr* nlh = BuildSetLink(buf.span(), 5, true, std::nullopt);
  EXPECT_EQ(nlh->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);  // never NLM_F_CREATE
  EXPECT_EQ(Header<ifinfomsg>(nlh)->ifi_index, 5);
  EXPECT_EQ(Header<ifinfomsg>(nlh)->ifi_change, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(Header<ifinfomsg>(nlh)->ifi_flags, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(FindAttr(nlh, sizeof(ifinfomsg), IFLA_MTU), nullptr);

  nlh = BuildSetLink(buf.span(), 5, std::nullopt, 1420);
  EXPECT_EQ(Header<ifinfomsg>(nlh)->ifi_change, 0u);
  EXPECT_EQ(mnl_attr_get_u32(FindAttr(nlh, sizeof(ifinfomsg), IFLA_MTU)), 1420u);

  nlh = BuildGetLink(buf.span(), 0, "wg0");
  EXPECT_STREQ(mnl_attr_get_str(FindAttr(nlh, sizeof(ifinfomsg), IFLA_IFNAME)), "wg0");
  nlh = BuildDeleteLink(buf.span(), 9);
  EXPECT_EQ(nlh->nlmsg_type, RTM_DELLINK);
  EXPECT_EQ(Header<ifinfomsg>(nlh)->ifi_index, 9);
}

// A RTM_NEWLINK as the kernel sends it, with a nested IFLA_LINKINFO.
nlmsghdr* KernelLink(std::span<uint8_t> buf, uint16_t type, int index, const char* name) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_index = index;
  ifi->ifi_flags = IFF_UP | IFF_LOWER_UP;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32(nlh, IFLA_MTU, 1420);
  mnl_attr_put_u8(nlh, IFLA_OPERSTATE, IF_OPER_UP);
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "tun");
  mnl_attr_nest_end(nlh, info);
  return nlh;
}

TEST(ParseLinkTest, ReadsNameMtuStateAndKind) {
  RequestBuffer buf;
  Result<Link> link = ParseLink(KernelLink(buf.span(), RTM_NEWLINK, 6, "wg0"));
  ASSERT_TRUE(link) << link.error().message();
  EXPECT_EQ(link->index, 6);
  EXPECT_EQ(link->name, "wg0");
  EXPECT_EQ(link->mtu, 1420u);
  EXPECT_TRUE(link->up());
  EXPECT_EQ(link->OperStateName(), "UP");
  EXPECT_EQ(link->kind, "tun");

  Result<LinkEvent> event = ParseLinkEvent(KernelLink(buf.span(), RTM_DELLINK, 6, "wg0"));
  ASSERT_TRUE(event);
  EXPECT_EQ(event->kind, LinkEvent::Kind::kDeleted);
  EXPECT_EQ(event->link.name, "wg0");
  EXPECT_FALSE(ParseLinkEvent(BuildDumpRoutes(buf.span(), IpAddress::Family::kV4)));
}

TEST(ParseTest, RejectsTruncatedAndMalformedMessages) {
  RequestBuffer buf;
  nlmsghdr* nlh = KernelLink(buf.span(), RTM_NEWLINK, 6, "wg0");
  nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;  // shorter than ifinfomsg
  Result<Link> link = ParseLink(nlh);
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().message(), "truncated RTM_NEWLINK (20 bytes)");

  // An attribute claiming more bytes than the message holds, at top level and nested.
  nlh = KernelLink(buf.span(), RTM_NEWLINK, 6, "wg0");
  auto* inner = reinterpret_cast<nlattr*>(reinterpret_cast<uint8_t*>(nlh) + nlh->nlmsg_len -
                                          MNL_ALIGN(sizeof(nlattr) + 4));
  ASSERT_EQ(inner->nla_type, IFLA_INFO_KIND);
  inner->nla_len = 200;
  link = ParseLink(nlh);
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().message(), "malformed nested attributes");
  auto* outer = reinterpret_cast<nlattr*>(reinterpret_cast<uint8_t*>(inner) - sizeof(nlattr));
  ASSERT_EQ(outer->nla_type & NLA_TYPE_MASK, IFLA_LINKINFO);
  outer->nla_len = 200;
  link = ParseLink(nlh);
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().message(), "malformed attributes in RTM_NEWLINK");

  // A v4 route whose gateway has 16 bytes.
  nlh = mnl_nlmsg_put_header(buf.bytes);
  nlh->nlmsg_type = RTM_NEWROUTE;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  const uint8_t sixteen[16] = {};
  mnl_attr_put(nlh, RTA_GATEWAY, sizeof(sixteen), sixteen);
  Result<Route> route = ParseRoute(nlh);
  ASSERT_FALSE(route);
  EXPECT_EQ(route.error().message(), "address attribute 5 has 16 bytes for family 2");

  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 33;
  EXPECT_FALSE(ParseRoute(nlh));
  rtm->rtm_family = AF_PACKET;
  EXPECT_FALSE(ParseRoute(nlh));
}

// --- Replies ---

constexpr uint32_t kPort = 4242;

// Appends a kernel message to a datagram under construction.
class Datagram {
 public:
  nlmsghdr* Add(uint16_t type, uint32_t seq, uint16_t flags = 0) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(bytes_ + used_);
    nlh->nlmsg_type = type;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = kPort;
    nlh->nlmsg_flags = flags;
    last_ = nlh;
    return nlh;
  }
  // An NLMSG_ERROR, capped (no echoed request) unless `echo`, with an extack text if given.
  void AddError(uint32_t seq, int error, const char* msg = nullptr,
                const nlmsghdr* echo = nullptr) {
    nlmsghdr* nlh = Add(NLMSG_ERROR, seq, echo == nullptr ? NLM_F_CAPPED : 0);
    const size_t body = echo == nullptr ? sizeof(nlmsgerr) : sizeof(int) + echo->nlmsg_len;
    auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, body));
    err->error = error;
    if (echo != nullptr) {
      std::memcpy(&err->msg, echo, echo->nlmsg_len);
    } else {
      err->msg = nlmsghdr{};
    }
    if (msg != nullptr) {
      nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
      mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
    }
  }
  void AddDone(uint32_t seq, int error = 0) {
    nlmsghdr* nlh = Add(NLMSG_DONE, seq, NLM_F_MULTI);
    *static_cast<int*>(mnl_nlmsg_put_extra_header(nlh, sizeof(int))) = error;
  }
  void Close() { used_ += last_->nlmsg_len; }
  std::span<const uint8_t> span() const { return std::span<const uint8_t>(bytes_, used_); }

 private:
  alignas(NLMSG_ALIGNTO) uint8_t bytes_[4096] = {};
  size_t used_ = 0;
  nlmsghdr* last_ = nullptr;
};

Result<ReplyState> Walk(const Datagram& d, uint32_t seq, int* messages = nullptr) {
  return WalkReplies(d.span(), seq, kPort, [&](const nlmsghdr*) {
    if (messages != nullptr) ++*messages;
    return Ok();
  });
}

TEST(WalkRepliesTest, AckEndsTheExchange) {
  Datagram d;
  d.AddError(7, 0);
  d.Close();
  Result<ReplyState> s = Walk(d, 7);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, ReplyState::kDone);
}

TEST(WalkRepliesTest, KernelErrorQuotesErrnoAndExtendedAck) {
  Datagram d;
  d.AddError(7, -EEXIST, "ipv4: Address already assigned");
  d.Close();
  Result<ReplyState> s = Walk(d, 7);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "File exists (ipv4: Address already assigned)");
  EXPECT_EQ(s.error().sys_errno(), EEXIST);
  EXPECT_EQ(s.error().Wrap("RTM_NEWADDR 192.0.2.2/32 dev wg0").message(),
            "RTM_NEWADDR 192.0.2.2/32 dev wg0: File exists (ipv4: Address already assigned)");

  Datagram plain;
  plain.AddError(7, -ENODEV);
  plain.Close();
  EXPECT_EQ(Walk(plain, 7).error().message(), "No such device");
}

TEST(WalkRepliesTest, FindsTheExtendedAckAfterAnEchoedRequest) {
  RequestBuffer req;
  Route r;
  r.dst = P("0.0.0.0/0");
  r.ifindex = 3;
  const nlmsghdr* request = BuildRoute(req.span(), RouteWrite::kAdd, r);
  Datagram d;
  d.AddError(9, -ENETDOWN, "Device for nexthop is not up", request);
  d.Close();
  Result<ReplyState> s = Walk(d, 9);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "Network is down (Device for nexthop is not up)");
}

TEST(WalkRepliesTest, DumpSpansDatagramsUntilDone) {
  Datagram first;
  first.Add(RTM_NEWLINK, 3, NLM_F_MULTI);
  first.Close();
  first.Add(RTM_NEWLINK, 3, NLM_F_MULTI);
  first.Close();
  int messages = 0;
  Result<ReplyState> s = Walk(first, 3, &messages);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, ReplyState::kMore);
  EXPECT_EQ(messages, 2);

  Datagram last;
  last.Add(RTM_NEWLINK, 3, NLM_F_MULTI);
  last.Close();
  last.AddDone(3);
  last.Close();
  s = Walk(last, 3, &messages);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, ReplyState::kDone);
  EXPECT_EQ(messages, 3);
}

TEST(WalkRepliesTest, SkipsStaleAnswersAndReportsDumpErrors) {
  Datagram d;
  d.AddError(2, -EEXIST);  // the answer to an abandoned request
  d.Close();
  d.Add(RTM_NEWROUTE, 2, NLM_F_MULTI);
  d.Close();
  d.AddDone(3, -EOPNOTSUPP);
  d.Close();
  int messages = 0;
  Result<ReplyState> s = Walk(d, 3, &messages);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().sys_errno(), EOPNOTSUPP);
  EXPECT_EQ(messages, 0);
}

TEST(WalkRepliesTest, InterruptedDumpAsksForARetry) {
  Datagram d;
  d.Add(RTM_NEWROUTE, 3, NLM_F_MULTI | NLM_F_DUMP_INTR);
  d.Close();
  Result<ReplyState> s = Walk(d, 3);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().sys_errno(), EINTR);
}

TEST(WalkRepliesTest, CallbackErrorStopsTheWalk) {
  Datagram d;
  d.Add(RTM_NEWROUTE, 3, NLM_F_MULTI);
  d.Close();
  Result<ReplyState> s =
      WalkReplies(d.span(), 3, kPort, [](const nlmsghdr*) -> Status { return Error("bad"); });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "bad");
}

TEST(WalkRepliesTest, TruncatedErrorIsAnError) {
  Datagram d;
  d.Add(NLMSG_ERROR, 3);
  d.Close();
  Result<ReplyState> s = Walk(d, 3);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "truncated NLMSG_ERROR");
}

TEST(OpTextTest, NamesOperationAndObject) {
  Route r;
  r.dst = P("0.0.0.0/0");
  r.dev = "wg0";
  r.table = 51820;
  EXPECT_EQ(RouteOpText(RouteWrite::kAdd, r), "RTM_NEWROUTE 0.0.0.0/0 dev wg0 table 51820");
  EXPECT_EQ(RouteOpText(RouteWrite::kDelete, r), "RTM_DELROUTE 0.0.0.0/0 dev wg0 table 51820");
  EXPECT_EQ(AddressOpText(RTM_NEWADDR, "wg0", P("10.64.0.2/32")),
            "RTM_NEWADDR 10.64.0.2/32 dev wg0");
  EXPECT_EQ(LinkOpText(RTM_NEWLINK, "wg0", "mtu 1420"), "RTM_NEWLINK wg0 mtu 1420");
  EXPECT_EQ(LinkOpText(RTM_DELLINK, "wg0"), "RTM_DELLINK wg0");
  EXPECT_EQ(LookupOpText(A("203.0.113.5"), 0xca6c), "RTM_GETROUTE 203.0.113.5 mark 0xca6c");
  EXPECT_EQ(DumpOpText(RTM_GETRULE), "RTM_GETRULE dump");
  EXPECT_EQ(MessageTypeName(99), "message type 99");
}

}  // namespace
}  // namespace wgate::netlink
