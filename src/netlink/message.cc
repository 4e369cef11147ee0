#include "netlink/message.h"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <tuple>
#include <type_traits>

#include "base/strings.h"

namespace wgate::netlink {
namespace {

uint8_t AfOf(IpAddress::Family family) {
  return family == IpAddress::Family::kV4 ? AF_INET : AF_INET6;
}

// Lays out one message with libmnl's bounds-checked puts. Running out of room is a programming
// error (kRequestBufferSize covers every request here), so it aborts rather than sends half.
class Writer {
 public:
  Writer(std::span<uint8_t> buf, uint16_t type, uint16_t flags) : size_(buf.size()) {
    WGATE_CHECK(buf.size() >= kRequestBufferSize);
    WGATE_CHECK(reinterpret_cast<uintptr_t>(buf.data()) % NLMSG_ALIGNTO == 0);
    nlh_ = mnl_nlmsg_put_header(buf.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  }

  template <typename T>
  T* Header() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
  }
  void U32(uint16_t type, uint32_t v) { WGATE_CHECK(mnl_attr_put_u32_check(nlh_, size_, type, v)); }
  void U8(uint16_t type, uint8_t v) { WGATE_CHECK(mnl_attr_put_u8_check(nlh_, size_, type, v)); }
  void Str(uint16_t type, std::string_view s) {
    WGATE_CHECK(s.find('\0') == std::string_view::npos);
    const std::string z(s);
    WGATE_CHECK(mnl_attr_put_strz_check(nlh_, size_, type, z.c_str()));
  }
  void Addr(uint16_t type, const IpAddress& a) {
    WGATE_CHECK(mnl_attr_put_check(nlh_, size_, type, a.size(), a.data()));
  }
  nlattr* NestStart(uint16_t type) {
    nlattr* nest = mnl_attr_nest_start_check(nlh_, size_, type);
    WGATE_CHECK(nest != nullptr);
    return nest;
  }
  void NestEnd(nlattr* nest) { mnl_attr_nest_end(nlh_, nest); }
  nlmsghdr* Done() { return nlh_; }

 private:
  nlmsghdr* nlh_;
  size_t size_;
};

// Attributes of one message or nest, indexed by type; later duplicates win, unknown high types
// are ignored.
class Attrs {
 public:
  static constexpr uint16_t kMaxType = 63;

  // Parses the attributes after a family header of `header_len` bytes.
  static Result<Attrs> Of(const nlmsghdr* nlh, size_t header_len) {
    Attrs attrs;
    const auto* start = static_cast<const uint8_t*>(mnl_nlmsg_get_payload_offset(nlh, header_len));
    const auto* tail = reinterpret_cast<const uint8_t*>(nlh) + nlh->nlmsg_len;
    attrs.end_ = start;
    if (mnl_attr_parse(nlh, static_cast<unsigned>(header_len), &Attrs::Collect, &attrs) < 0 ||
        !attrs.Complete(tail)) {
      return Error(StrCat("malformed attributes in ", MessageTypeName(nlh->nlmsg_type)), EINVAL);
    }
    return attrs;
  }
  static Result<Attrs> OfNest(const nlattr* nest) {
    Attrs attrs;
    const auto* start = static_cast<const uint8_t*>(mnl_attr_get_payload(nest));
    attrs.end_ = start;
    if (mnl_attr_parse_nested(nest, &Attrs::Collect, &attrs) < 0 ||
        !attrs.Complete(start + mnl_attr_get_payload_len(nest))) {
      return Error("malformed nested attributes", EINVAL);
    }
    return attrs;
  }

  const nlattr* Get(uint16_t type) const { return type <= kMaxType ? table_[type] : nullptr; }

  std::optional<uint32_t> U32(uint16_t type) const {
    const nlattr* a = Get(type);
    if (a == nullptr || mnl_attr_get_payload_len(a) != sizeof(uint32_t)) return std::nullopt;
    return mnl_attr_get_u32(a);
  }
  std::optional<uint8_t> U8(uint16_t type) const {
    const nlattr* a = Get(type);
    if (a == nullptr || mnl_attr_get_payload_len(a) != sizeof(uint8_t)) return std::nullopt;
    return mnl_attr_get_u8(a);
  }
  // The string up to its NUL or the end of the payload: never reads past the attribute.
  std::optional<std::string> Str(uint16_t type) const {
    const nlattr* a = Get(type);
    if (a == nullptr) return std::nullopt;
    const char* p = static_cast<const char*>(mnl_attr_get_payload(a));
    const size_t n = mnl_attr_get_payload_len(a);
    return std::string(p, strnlen(p, n));
  }
  // The address of `family` in attribute `type` into *out (unchanged when absent); an error
  // when present with the wrong length.
  Status Addr(uint16_t type, uint8_t family, std::optional<IpAddress>* out) const {
    const nlattr* a = Get(type);
    if (a == nullptr) return Ok();
    const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
    const size_t n = mnl_attr_get_payload_len(a);
    if (family == AF_INET && n == 4) {
      *out = IpAddress::V4(p);
    } else if (family == AF_INET6 && n == 16) {
      *out = IpAddress::V6(p);
    } else {
      return Error(StrCat("address attribute ", type, " has ", n, " bytes for family ",
                          static_cast<int>(family)),
                   EINVAL);
    }
    return Ok();
  }

 private:
  static int Collect(const nlattr* attr, void* data) {
    auto* self = static_cast<Attrs*>(data);
    const uint16_t type = mnl_attr_get_type(attr);
    if (type <= kMaxType) self->table_[type] = attr;
    self->end_ = reinterpret_cast<const uint8_t*>(attr) + MNL_ALIGN(attr->nla_len);
    return MNL_CB_OK;
  }

  // libmnl stops quietly at an attribute that overruns its container; such a message is
  // malformed, not shorter.
  bool Complete(const uint8_t* tail) const {
    return end_ >= tail || static_cast<size_t>(tail - end_) < sizeof(nlattr);
  }

  std::array<const nlattr*, kMaxType + 1> table_{};
  const uint8_t* end_ = nullptr;
};

// A message's family header (T: ifinfomsg, rtmsg, ...) and its attributes, checked: too short
// to hold the header, malformed attributes, or (where the header has one) a family other than
// AF_INET/AF_INET6 are errors.
template <typename T>
struct Message {
  const T* header;
  Attrs attrs;

  static Result<Message> Of(const nlmsghdr* nlh) {
    if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(T))) {
      return Error(
          StrCat("truncated ", MessageTypeName(nlh->nlmsg_type), " (", nlh->nlmsg_len, " bytes)"),
          EINVAL);
    }
    const auto* header = static_cast<const T*>(mnl_nlmsg_get_payload(nlh));
    if constexpr (!std::is_same_v<T, ifinfomsg>) {
      const uint8_t af = reinterpret_cast<const uint8_t*>(header)[0];  // every *_family is first
      if (af != AF_INET && af != AF_INET6) {
        return Error(
            StrCat("address family ", static_cast<int>(af), " is neither AF_INET nor AF_INET6"),
            EAFNOSUPPORT);
      }
    }
    Result<Attrs> attrs = Attrs::Of(nlh, sizeof(T));
    if (!attrs) return attrs.error();
    return Message{header, std::move(*attrs)};
  }
};

Status CheckPrefixLength(uint8_t af, int len) {
  if (len > (af == AF_INET ? 32 : 128))
    return Error(StrCat("prefix length ", len, " too long"), EINVAL);
  return Ok();
}

IpPrefix AnyPrefix(uint8_t af, int len) {
  static constexpr uint8_t kZero[16] = {};
  return IpPrefix{af == AF_INET ? IpAddress::V4(kZero) : IpAddress::V6(kZero), len};
}

RouteType RouteTypeOf(uint8_t rtm_type) {
  switch (rtm_type) {
    case RTN_UNICAST:
      return RouteType::kUnicast;
    case RTN_BLACKHOLE:
      return RouteType::kBlackhole;
    case RTN_UNREACHABLE:
      return RouteType::kUnreachable;
    case RTN_PROHIBIT:
      return RouteType::kProhibit;
    case RTN_LOCAL:
      return RouteType::kLocal;
    default:
      return RouteType::kOther;
  }
}

uint8_t RtmTypeOf(RouteType type) {
  switch (type) {
    case RouteType::kUnicast:
      return RTN_UNICAST;
    case RouteType::kBlackhole:
      return RTN_BLACKHOLE;
    case RouteType::kUnreachable:
      return RTN_UNREACHABLE;
    case RouteType::kProhibit:
      return RTN_PROHIBIT;
    case RouteType::kLocal:
      return RTN_LOCAL;
    case RouteType::kOther:
      break;
  }
  WGATE_CHECK(false && "wgate never writes routes of other types");
  return RTN_UNSPEC;
}

uint8_t HeaderTable(uint32_t table) {
  return table < 256 ? static_cast<uint8_t>(table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
}

// The kernel's error for one exchange, with its extended ack text when present. `tlvs` is where
// the nlmsgerr attributes start (after the echoed request, or right after the header if capped).
Error KernelError(int err, const nlmsghdr* nlh, size_t tlv_offset) {
  std::string text = std::strerror(err);
  if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) != 0 && nlh->nlmsg_len >= MNL_NLMSG_HDRLEN + tlv_offset) {
    Result<Attrs> attrs = Attrs::Of(nlh, tlv_offset);
    if (attrs) {
      if (std::optional<std::string> msg = attrs->Str(NLMSGERR_ATTR_MSG); msg && !msg->empty()) {
        text += StrCat(" (", *msg, ")");
      }
    }
  }
  return Error(std::move(text), err);
}

}  // namespace

std::string MessageTypeName(uint16_t type) {
  switch (type) {
    case RTM_NEWLINK:
      return "RTM_NEWLINK";
    case RTM_DELLINK:
      return "RTM_DELLINK";
    case RTM_GETLINK:
      return "RTM_GETLINK";
    case RTM_NEWADDR:
      return "RTM_NEWADDR";
    case RTM_DELADDR:
      return "RTM_DELADDR";
    case RTM_GETADDR:
      return "RTM_GETADDR";
    case RTM_NEWROUTE:
      return "RTM_NEWROUTE";
    case RTM_DELROUTE:
      return "RTM_DELROUTE";
    case RTM_GETROUTE:
      return "RTM_GETROUTE";
    case RTM_NEWRULE:
      return "RTM_NEWRULE";
    case RTM_DELRULE:
      return "RTM_DELRULE";
    case RTM_GETRULE:
      return "RTM_GETRULE";
    case NLMSG_ERROR:
      return "NLMSG_ERROR";
    case NLMSG_DONE:
      return "NLMSG_DONE";
    default:
      return StrCat("message type ", type);
  }
}

std::string LinkOpText(uint16_t type, std::string_view name, std::string_view change) {
  std::string out = StrCat(MessageTypeName(type), " ", name);
  if (!change.empty()) out += StrCat(" ", change);
  return out;
}

std::string AddressOpText(uint16_t type, std::string_view dev, const IpPrefix& address) {
  return StrCat(MessageTypeName(type), " ", address.ToString(), " dev ", dev);
}

std::string RouteOpText(RouteWrite op, const Route& route) {
  return StrCat(op == RouteWrite::kDelete ? "RTM_DELROUTE " : "RTM_NEWROUTE ", route.ToString());
}

std::string RuleOpText(uint16_t type, const Rule& rule) {
  return StrCat(MessageTypeName(type), " ", rule.ToString());
}

std::string LookupOpText(const IpAddress& dst, std::optional<uint32_t> mark) {
  std::string out = StrCat("RTM_GETROUTE ", dst.ToString());
  if (mark) out += StrCat(" mark 0x", std::hex, *mark);
  return out;
}

std::string DumpOpText(uint16_t type) { return StrCat(MessageTypeName(type), " dump"); }

// --- Builders ---

nlmsghdr* BuildGetLink(std::span<uint8_t> buf, int ifindex, std::string_view name) {
  Writer w(buf, RTM_GETLINK, 0);
  auto* ifi = w.Header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  if (!name.empty()) w.Str(IFLA_IFNAME, name);
  return w.Done();
}

nlmsghdr* BuildDumpLinks(std::span<uint8_t> buf) {
  Writer w(buf, RTM_GETLINK, NLM_F_DUMP);
  w.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  return w.Done();
}

nlmsghdr* BuildSetLink(std::span<uint8_t> buf, int ifindex, std::optional<bool> up,
                       std::optional<uint32_t> mtu) {
  Writer w(buf, RTM_NEWLINK, NLM_F_ACK);
  auto* ifi = w.Header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  if (up) {
    ifi->ifi_change = IFF_UP;
    ifi->ifi_flags = *up ? IFF_UP : 0;
  }
  if (mtu) w.U32(IFLA_MTU, *mtu);
  return w.Done();
}

nlmsghdr* BuildDeleteLink(std::span<uint8_t> buf, int ifindex) {
  Writer w(buf, RTM_DELLINK, NLM_F_ACK);
  auto* ifi = w.Header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  return w.Done();
}

nlmsghdr* BuildAddress(std::span<uint8_t> buf, uint16_t type, int ifindex, const IpPrefix& prefix) {
  WGATE_CHECK(type == RTM_NEWADDR || type == RTM_DELADDR);
  Writer w(
      buf, type,
      static_cast<uint16_t>(NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0)));
  auto* ifa = w.Header<ifaddrmsg>();
  ifa->ifa_family = AfOf(prefix.addr.family());
  ifa->ifa_prefixlen = static_cast<uint8_t>(prefix.len);
  ifa->ifa_index = static_cast<uint32_t>(ifindex);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  const uint32_t flags = prefix.addr.is_v6() ? IFA_F_NODAD : 0;
  ifa->ifa_flags = static_cast<uint8_t>(flags);
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS the same on a non point-to-point link.
  w.Addr(IFA_LOCAL, prefix.addr);
  w.Addr(IFA_ADDRESS, prefix.addr);
  if (type == RTM_NEWADDR) w.U32(IFA_FLAGS, flags);
  return w.Done();
}

nlmsghdr* BuildDumpAddresses(std::span<uint8_t> buf, IpAddress::Family family) {
  Writer w(buf, RTM_GETADDR, NLM_F_DUMP);
  w.Header<ifaddrmsg>()->ifa_family = AfOf(family);
  return w.Done();
}

nlmsghdr* BuildRoute(std::span<uint8_t> buf, RouteWrite op, const Route& route) {
  uint16_t flags = NLM_F_ACK;
  if (op == RouteWrite::kAdd) flags |= NLM_F_CREATE | NLM_F_EXCL;
  if (op == RouteWrite::kReplace) flags |= NLM_F_CREATE | NLM_F_REPLACE;
  if (op == RouteWrite::kPrepend) flags |= NLM_F_CREATE;
  Writer w(buf, op == RouteWrite::kDelete ? RTM_DELROUTE : RTM_NEWROUTE, flags);
  auto* rtm = w.Header<rtmsg>();
  const uint8_t af = AfOf(route.dst.addr.family());
  rtm->rtm_family = af;
  rtm->rtm_dst_len = static_cast<uint8_t>(route.dst.len);
  rtm->rtm_table = HeaderTable(route.table);
  rtm->rtm_type = RtmTypeOf(route.type);
  if (op == RouteWrite::kDelete) {
    // As `ip route del`: scope NOWHERE and protocol 0 are wildcards for the kernel's match.
    rtm->rtm_scope = RT_SCOPE_NOWHERE;
    rtm->rtm_protocol = route.protocol;
  } else {
    rtm->rtm_protocol = route.protocol != 0 ? route.protocol : RTPROT_BOOT;
    rtm->rtm_scope = route.type == RouteType::kUnicast && !route.gateway ? RT_SCOPE_LINK
                     : route.type == RouteType::kLocal                   ? RT_SCOPE_HOST
                                                                         : RT_SCOPE_UNIVERSE;
  }
  w.U32(RTA_TABLE, route.table);
  if (route.dst.len > 0) w.Addr(RTA_DST, route.dst.Network().addr);
  if (route.ifindex != 0) w.U32(RTA_OIF, static_cast<uint32_t>(route.ifindex));
  if (route.gateway) w.Addr(RTA_GATEWAY, *route.gateway);
  if (route.prefsrc) w.Addr(RTA_PREFSRC, *route.prefsrc);
  if (route.metric) w.U32(RTA_PRIORITY, *route.metric);
  if (route.mtu && op != RouteWrite::kDelete) {
    nlattr* metrics = w.NestStart(RTA_METRICS);
    w.U32(RTAX_MTU, *route.mtu);
    w.NestEnd(metrics);
  }
  return w.Done();
}

nlmsghdr* BuildDumpRoutes(std::span<uint8_t> buf, IpAddress::Family family) {
  Writer w(buf, RTM_GETROUTE, NLM_F_DUMP);
  w.Header<rtmsg>()->rtm_family = AfOf(family);
  return w.Done();
}

nlmsghdr* BuildLookupRoute(std::span<uint8_t> buf, const IpAddress& dst,
                           std::optional<uint32_t> mark) {
  Writer w(buf, RTM_GETROUTE, 0);
  auto* rtm = w.Header<rtmsg>();
  rtm->rtm_family = AfOf(dst.family());
  rtm->rtm_dst_len = static_cast<uint8_t>(dst.bit_length());
  w.Addr(RTA_DST, dst);
  if (mark) w.U32(RTA_MARK, *mark);
  return w.Done();
}

nlmsghdr* BuildRule(std::span<uint8_t> buf, uint16_t type, const Rule& rule) {
  WGATE_CHECK(type == RTM_NEWRULE || type == RTM_DELRULE);
  Writer w(
      buf, type,
      static_cast<uint16_t>(NLM_F_ACK | (type == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0)));
  auto* frh = w.Header<fib_rule_hdr>();
  frh->family = AfOf(rule.family);
  frh->table = HeaderTable(rule.table);
  frh->action = FR_ACT_TO_TBL;
  if (rule.invert) frh->flags |= FIB_RULE_INVERT;
  w.U32(FRA_TABLE, rule.table);
  if (rule.priority) w.U32(FRA_PRIORITY, *rule.priority);
  if (rule.fwmark) w.U32(FRA_FWMARK, *rule.fwmark);
  if (rule.fwmask) w.U32(FRA_FWMASK, *rule.fwmask);
  if (rule.src) {
    frh->src_len = static_cast<uint8_t>(rule.src->len);
    w.Addr(FRA_SRC, rule.src->Network().addr);
  }
  if (rule.dst) {
    frh->dst_len = static_cast<uint8_t>(rule.dst->len);
    w.Addr(FRA_DST, rule.dst->Network().addr);
  }
  if (rule.suppress_prefixlength) w.U32(FRA_SUPPRESS_PREFIXLEN, *rule.suppress_prefixlength);
  return w.Done();
}

nlmsghdr* BuildDumpRules(std::span<uint8_t> buf, IpAddress::Family family) {
  Writer w(buf, RTM_GETRULE, NLM_F_DUMP);
  w.Header<fib_rule_hdr>()->family = AfOf(family);
  return w.Done();
}

// --- Parsers ---

Result<Link> ParseLink(const nlmsghdr* nlh) {
  Result<Message<ifinfomsg>> m = Message<ifinfomsg>::Of(nlh);
  if (!m) return m.error();
  Link link;
  link.index = m->header->ifi_index;
  link.flags = m->header->ifi_flags;
  link.name = m->attrs.Str(IFLA_IFNAME).value_or("");
  link.mtu = m->attrs.U32(IFLA_MTU).value_or(0);
  link.operstate = m->attrs.U8(IFLA_OPERSTATE).value_or(IF_OPER_UNKNOWN);
  if (const nlattr* info = m->attrs.Get(IFLA_LINKINFO)) {
    Result<Attrs> nested = Attrs::OfNest(info);
    if (!nested) return nested.error();
    link.kind = nested->Str(IFLA_INFO_KIND).value_or("");
  }
  return link;
}

Result<Address> ParseAddress(const nlmsghdr* nlh) {
  Result<Message<ifaddrmsg>> m = Message<ifaddrmsg>::Of(nlh);
  if (!m) return m.error();
  const uint8_t af = m->header->ifa_family;
  // IFA_LOCAL is the local address where it differs from IFA_ADDRESS (point-to-point peers).
  std::optional<IpAddress> local, address;
  if (Status s = m->attrs.Addr(IFA_LOCAL, af, &local); !s) return s.error();
  if (Status s = m->attrs.Addr(IFA_ADDRESS, af, &address); !s) return s.error();
  if (!local) local = address;
  if (!local) return Error("RTM_NEWADDR without IFA_LOCAL or IFA_ADDRESS", EINVAL);
  Address out;
  out.prefix = IpPrefix{*local, m->header->ifa_prefixlen};
  if (Status s = CheckPrefixLength(af, out.prefix.len); !s) return s.error();
  out.ifindex = static_cast<int>(m->header->ifa_index);
  out.scope = m->header->ifa_scope;
  out.flags = m->attrs.U32(IFA_FLAGS).value_or(m->header->ifa_flags);
  return out;
}

Result<Route> ParseRoute(const nlmsghdr* nlh) {
  Result<Message<rtmsg>> m = Message<rtmsg>::Of(nlh);
  if (!m) return m.error();
  const rtmsg& rtm = *m->header;
  const uint8_t af = rtm.rtm_family;
  if (Status s = CheckPrefixLength(af, rtm.rtm_dst_len); !s) return s.error();
  Route r;
  std::optional<IpAddress> dst;
  if (Status s = m->attrs.Addr(RTA_DST, af, &dst); !s) return s.error();
  r.dst = dst ? IpPrefix{*dst, rtm.rtm_dst_len} : AnyPrefix(af, rtm.rtm_dst_len);
  r.type = RouteTypeOf(rtm.rtm_type);
  r.table = m->attrs.U32(RTA_TABLE).value_or(rtm.rtm_table);
  r.protocol = rtm.rtm_protocol;
  r.scope = rtm.rtm_scope;
  // The kernel hangs v6 blackhole/unreachable/prohibit routes on lo; they have no device.
  if (r.type == RouteType::kUnicast || r.type == RouteType::kLocal) {
    r.ifindex = static_cast<int>(m->attrs.U32(RTA_OIF).value_or(0));
  }
  if (Status s = m->attrs.Addr(RTA_GATEWAY, af, &r.gateway); !s) return s.error();
  if (Status s = m->attrs.Addr(RTA_PREFSRC, af, &r.prefsrc); !s) return s.error();
  r.metric = m->attrs.U32(RTA_PRIORITY);
  if (const nlattr* metrics = m->attrs.Get(RTA_METRICS)) {
    Result<Attrs> nested = Attrs::OfNest(metrics);
    if (!nested) return nested.error();
    r.mtu = nested->U32(RTAX_MTU);
  }
  return r;
}

Result<RouteLookup> ParseRouteLookup(const nlmsghdr* nlh) {
  Result<Route> r = ParseRoute(nlh);
  if (!r) return r.error();
  RouteLookup out;
  out.dst = r->dst.addr;
  out.ifindex = r->ifindex;
  out.gateway = r->gateway;
  out.prefsrc = r->prefsrc;
  out.table = r->table;
  return out;
}

Result<Rule> ParseRule(const nlmsghdr* nlh) {
  Result<Message<fib_rule_hdr>> m = Message<fib_rule_hdr>::Of(nlh);
  if (!m) return m.error();
  const fib_rule_hdr& frh = *m->header;
  const uint8_t af = frh.family;
  Rule rule;
  rule.family = af == AF_INET ? IpAddress::Family::kV4 : IpAddress::Family::kV6;
  rule.table = m->attrs.U32(FRA_TABLE).value_or(frh.table);
  rule.invert = (frh.flags & FIB_RULE_INVERT) != 0;
  rule.priority = m->attrs.U32(FRA_PRIORITY).value_or(0);  // omitted when 0, the local rule's
  rule.fwmark = m->attrs.U32(FRA_FWMARK);
  rule.fwmask = m->attrs.U32(FRA_FWMASK);
  // The kernel reports "no suppression" as -1.
  rule.suppress_prefixlength = m->attrs.U32(FRA_SUPPRESS_PREFIXLEN);
  if (rule.suppress_prefixlength == 0xffffffffu) rule.suppress_prefixlength.reset();
  for (auto [type, len, out] :
       {std::tuple{FRA_SRC, frh.src_len, &rule.src}, std::tuple{FRA_DST, frh.dst_len, &rule.dst}}) {
    if (Status s = CheckPrefixLength(af, len); !s) return s.error();
    std::optional<IpAddress> a;
    if (Status s = m->attrs.Addr(static_cast<uint16_t>(type), af, &a); !s) return s.error();
    if (a) *out = IpPrefix{*a, len};
  }
  return rule;
}

Result<LinkEvent> ParseLinkEvent(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) {
    return Error(StrCat("unexpected ", MessageTypeName(nlh->nlmsg_type), " on a link monitor"),
                 EINVAL);
  }
  Result<Link> link = ParseLink(nlh);
  if (!link) return link.error();
  LinkEvent event;
  event.kind = nlh->nlmsg_type == RTM_NEWLINK ? LinkEvent::Kind::kNew : LinkEvent::Kind::kDeleted;
  event.link = std::move(*link);
  return event;
}

// --- Replies ---

Result<ReplyState> WalkReplies(std::span<const uint8_t> datagram, uint32_t seq, uint32_t portid,
                               const std::function<Status(const nlmsghdr*)>& on_message) {
  int remaining = static_cast<int>(datagram.size());
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(datagram.data());
  for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (nlh->nlmsg_seq != seq || (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != portid)) continue;
    if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0) {
      return Error("dump interrupted by a concurrent change", EINTR);
    }
    switch (nlh->nlmsg_type) {
      case NLMSG_NOOP:
        continue;
      case NLMSG_ERROR: {
        if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(nlmsgerr)) {
          return Error("truncated NLMSG_ERROR", EBADMSG);
        }
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (err->error == 0) return ReplyState::kDone;
        // Unless capped (NETLINK_CAP_ACK), the kernel echoes our request before the TLVs.
        size_t tlvs = sizeof(nlmsgerr);
        if ((nlh->nlmsg_flags & NLM_F_CAPPED) == 0) {
          tlvs = MNL_ALIGN(sizeof(int) + err->msg.nlmsg_len);
        }
        return KernelError(-err->error, nlh, tlvs);
      }
      case NLMSG_DONE: {
        // Since Linux 4.x a failed dump ends with NLMSG_DONE carrying the negative errno.
        if (nlh->nlmsg_len >= MNL_NLMSG_HDRLEN + sizeof(int)) {
          int error = 0;
          std::memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
          if (error < 0) return KernelError(-error, nlh, MNL_ALIGN(sizeof(int)));
        }
        return ReplyState::kDone;
      }
      default:
        if (Status s = on_message(nlh); !s) return s.error();
    }
  }
  return ReplyState::kMore;
}

}  // namespace wgate::netlink
