#include "firewall/nft_monitor.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/strings.h"

namespace wgate::firewall {
namespace {

// Room for bursts while the loop is busy (a re-apply, a bring-up): a `flush ruleset` of a large
// ruleset is thousands of messages. Overflowing is safe (reported as a change), just noisier.
constexpr int kReceiveBuffer = 1 << 20;

// Every nf_tables object message but the generation and trace ones names its table in
// attribute 1 (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE,
// NFTA_SET_ELEM_LIST_TABLE, NFTA_OBJ_TABLE, NFTA_FLOWTABLE_TABLE).
constexpr uint16_t kTableAttribute = 1;
static_assert(NFTA_TABLE_NAME == kTableAttribute && NFTA_CHAIN_TABLE == kTableAttribute &&
              NFTA_RULE_TABLE == kTableAttribute && NFTA_SET_TABLE == kTableAttribute &&
              NFTA_SET_ELEM_LIST_TABLE == kTableAttribute && NFTA_OBJ_TABLE == kTableAttribute &&
              NFTA_FLOWTABLE_TABLE == kTableAttribute);

std::string MessageName(uint8_t type) {
  static const char* const kNames[] = {
      "NEWTABLE", "GETTABLE",     "DELTABLE",     "NEWCHAIN",     "GETCHAIN",
      "DELCHAIN", "NEWRULE",      "GETRULE",      "DELRULE",      "NEWSET",
      "GETSET",   "DELSET",       "NEWSETELEM",   "GETSETELEM",   "DELSETELEM",
      "NEWGEN",   "GETGEN",       "TRACE",        "NEWOBJ",       "GETOBJ",
      "DELOBJ",   "GETOBJ_RESET", "NEWFLOWTABLE", "GETFLOWTABLE", "DELFLOWTABLE"};
  if (type < sizeof(kNames) / sizeof(kNames[0])) return StrCat("NFT_MSG_", kNames[type]);
  return StrCat("NFT_MSG type ", static_cast<int>(type));  // newer kernels: DESTROY*, ...
}

struct Attributes {
  const nlattr* table = nullptr;
  const nlattr* flags = nullptr;  // NEWTABLE only: NFTA_TABLE_FLAGS
};

int CollectAttribute(const nlattr* attr, void* data) {
  auto* a = static_cast<Attributes*>(data);
  const uint16_t type = mnl_attr_get_type(attr);
  if (type == kTableAttribute && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) a->table = attr;
  if (type == NFTA_TABLE_FLAGS && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) a->flags = attr;
  return MNL_CB_OK;
}

void Add(std::string line, NftChanges* out) {
  out->changed = true;
  std::vector<std::string>& d = out->descriptions;
  if (std::find(d.begin(), d.end(), line) != d.end()) return;  // a burst: one line per kind
  if (out->descriptions.size() < NftChanges::kMaxDescriptions) {
    out->descriptions.push_back(std::move(line));
  } else if (out->descriptions.size() == NftChanges::kMaxDescriptions) {
    out->descriptions.push_back("...");
  }
}

}  // namespace

std::string NftFamilyName(uint8_t family) {
  switch (family) {
    case NFPROTO_INET:
      return "inet";
    case NFPROTO_IPV4:
      return "ip";
    case NFPROTO_IPV6:
      return "ip6";
    case NFPROTO_ARP:
      return "arp";
    case NFPROTO_BRIDGE:
      return "bridge";
    case NFPROTO_NETDEV:
      return "netdev";
  }
  return StrCat("family ", static_cast<int>(family));
}

Result<std::unique_ptr<NftMonitor>> NftMonitor::Open(std::vector<std::string> tables,
                                                     uint32_t ignore_portid) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER));
  if (!fd) return Error::FromErrno("nft monitor: socket(AF_NETLINK, NETLINK_NETFILTER)", errno);
  // SO_RCVBUFFORCE goes past net.core.rmem_max (we have CAP_NET_ADMIN); plain SO_RCVBUF else.
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBuffer, sizeof kReceiveBuffer) !=
      0) {
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer);
  }
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::FromErrno("nft monitor: bind(AF_NETLINK)", errno);
  }
  const int group = NFNLGRP_NFTABLES;
  if (::setsockopt(fd.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
    return Error::FromErrno("nft monitor: joining NFNLGRP_NFTABLES", errno);
  }
  return std::unique_ptr<NftMonitor>(
      new NftMonitor(std::move(fd), std::move(tables), ignore_portid));
}

void ParseNftEvents(const uint8_t* buf, size_t len, const std::vector<std::string>& tables,
                    uint32_t ignore_portid, NftChanges* out) {
  auto watched = [&](uint8_t family, std::string_view name) {
    const std::string full = StrCat(NftFamilyName(family), " ", name);
    return std::find(tables.begin(), tables.end(), full) != tables.end();
  };
  int remaining = static_cast<int>(len);
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf); mnl_nlmsg_ok(nlh, remaining);
       nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES) continue;
    const uint8_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
    if (type == NFT_MSG_NEWGEN || type == NFT_MSG_TRACE) continue;
    if (ignore_portid != 0 && nlh->nlmsg_pid == ignore_portid) continue;
    if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) continue;
    const auto* gen = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    Attributes attrs;
    if (mnl_attr_parse(nlh, sizeof(nfgenmsg), CollectAttribute, &attrs) < 0) {
      // Cannot tell which table: assume it is ours rather than miss a change.
      Add(StrCat(MessageName(type), " (unparsable)"), out);
      continue;
    }
    if (attrs.table == nullptr) continue;
    const char* name = mnl_attr_get_str(attrs.table);
    if (!watched(gen->nfgen_family, name)) continue;
    std::string line = StrCat(MessageName(type), " ", NftFamilyName(gen->nfgen_family), " ", name);
    if (type == NFT_MSG_NEWTABLE && attrs.flags != nullptr) {
      const uint32_t flags = ntohl(mnl_attr_get_u32(attrs.flags));
      if (flags & NFT_TABLE_F_DORMANT) line += " flags dormant";
      if (flags & NFT_TABLE_F_OWNER) line += " flags owner";
      if (const uint32_t other = flags & ~uint32_t{NFT_TABLE_F_DORMANT | NFT_TABLE_F_OWNER}) {
        line += StrCat(" flags ", other);
      }
    }
    Add(std::move(line), out);
  }
}

Result<NftChanges> NftMonitor::Read() {
  NftChanges out;
  alignas(nlmsghdr) uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) {
      ParseNftEvents(buf, static_cast<size_t>(n), tables_, ignore_portid_, &out);
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == ENOBUFS) {  // the kernel dropped events: whatever they said, look now
      Add("events lost (ENOBUFS): the socket buffer overflowed", &out);
      continue;
    }
    return Error::FromErrno("nft monitor: recv", errno);
  }
  return out;
}

}  // namespace wgate::firewall
