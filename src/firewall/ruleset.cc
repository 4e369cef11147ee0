#include "firewall/ruleset.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "base/strings.h"

namespace wgate::firewall {
namespace {

constexpr size_t kMaxIfnameLength = 15;  // IFNAMSIZ - 1

constexpr std::string_view kInputHeader = kBaseChains[0].header;
constexpr std::string_view kForwardHeader = kBaseChains[1].header;
constexpr std::string_view kOutputHeader = kBaseChains[2].header;
constexpr std::string_view kPostroutingHeader = kBaseChains[3].header;

// Conntrack mark bit of the connections that really arrived from the uplink on a published port.
// The output chain lets replies out of a published port only for connections carrying it: the
// reply direction alone can be forged (a consumer with CAP_NET_RAW sends far:53 -> own uplink
// address:port over lo, and the answer to that would be a "reply"). Only the input rule for the
// published ports sets it, and only wgate's own rules set conntrack marks here (consumers have no
// CAP_NET_ADMIN). It is or-ed in; a new connection's mark is 0, so theirs is then exactly this
// bit, and the connected state refuses the fwmark 0x80000000: lockdown's `ct mark <fwmark>` (the
// resolver hole's replies) would match published connections left over from the connected state.
constexpr uint32_t kPublishedMark = 0x80000000;

// Connected state: loopback carries packets from one local address to another. A far source on lo
// is forged with a raw socket (CAP_NET_RAW, which Docker grants by default): not accepted here, it
// falls through to the rules that follow and to the policy drop. The next rule accepts
// established,related, which keeps the refusals fast: `reject with tcp reset` sends its reset over
// lo FROM the refused far address, and conntrack attaches it to the refused packet as related.
// Lockdown keeps the plain `iifname "lo" accept` (it has no such rule after it, and no published
// port whose replies a forged connection could borrow). Known gap: the kernel's fib does not call
// an own IPv6 link-local source "local" here, so a program talking to its own fe80:: address over
// lo is dropped in the connected state.
constexpr std::string_view kConnectedLoopbackInput = "iifname \"lo\" fib saddr type local accept";

// Names a value for an error message: printable ASCII kept, `"` and `\` escaped, anything else as
// \xNN, so a hostile name cannot garble the log line.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  out += '"';
  return out;
}

bool IsLoopback(const IpAddress& a) {
  if (a.is_v4()) return a.data()[0] == 127;
  static const IpAddress kV6Loopback = *IpAddress::Parse("::1");
  return a == kV6Loopback;
}

std::string FamilyKeyword(const IpAddress& a) { return a.is_v4() ? "ip" : "ip6"; }

// "8080" or "{ 80, 443 }": nft lists a one-element anonymous set as the bare value, so the script
// says it the same way.
std::string SetOf(const std::vector<std::string>& items) {
  if (items.size() == 1) return items[0];
  std::string out = "{ ";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  out += " }";
  return out;
}

std::vector<std::string> PortStrings(const std::vector<uint16_t>& ports) {
  std::set<uint16_t> sorted(ports.begin(), ports.end());
  std::vector<std::string> out;
  for (uint16_t p : sorted) out.push_back(std::to_string(p));
  return out;
}

std::string Ifname(std::string_view name) { return StrCat("\"", name, "\""); }

// Ports by protocol: both (the TCP+UDP list), TCP only, UDP only.
struct PortGroups {
  const std::vector<uint16_t>& both;
  const std::vector<uint16_t>& tcp;
  const std::vector<uint16_t>& udp;
  bool empty() const { return both.empty() && tcp.empty() && udp.empty(); }
};

// One rule per non-empty group: `head` <protocol match> `field` {ports} `tail`, where field is
// "dport" or "sport".
void AddPortRules(std::vector<std::string>* rules, const std::string& head, const PortGroups& g,
                  std::string_view field, std::string_view tail) {
  const std::pair<const std::vector<uint16_t>*, std::string_view> groups[] = {
      {&g.both, "meta l4proto { tcp, udp } th "}, {&g.tcp, "tcp "}, {&g.udp, "udp "}};
  for (const auto& [ports, proto] : groups) {
    if (ports->empty()) continue;
    rules->push_back(StrCat(head, proto, field, " ", SetOf(PortStrings(*ports)), tail));
  }
}

Status CheckPorts(std::string_view what, const std::vector<uint16_t>& ports) {
  for (uint16_t p : ports) {
    if (p == 0) return Error(StrCat("firewall: ", what, " 0 is out of range 1-65535"));
  }
  return Ok();
}

// `socket cgroupv2 level L "path" ` when the spec names wgate's own cgroup, else "".
std::string CgroupClause(const RulesetSpec& spec) {
  if (!spec.engine_cgroup) return "";
  return StrCat("socket cgroupv2 level ", spec.engine_cgroup->level, " \"",
                spec.engine_cgroup->path, "\" ");
}

// With the device-level filter: every accept of the check after NAT but those for `unstamped`
// interfaces (loopback, the tunnel: no egress filter there) also stamps the packet, so that the
// uplink's egress chain knows it passed. Raw frames never reach this hook. The owned twin runs
// the same chain after this one and sees the stamp instead of wgate's mark: its mark matches
// accept either (the output hook checked the mark strictly already).
void StampForEgress(const RulesetSpec& spec, const std::vector<std::string>& unstamped,
                    Chain* postrouting) {
  if (!spec.egress) return;
  constexpr std::string_view kAccept = " accept";
  const std::string stamp = FormatMark(spec.egress->stamp);
  const std::string mark = StrCat("meta mark ", FormatMark(spec.fwmark), " ");
  const std::string either =
      spec.fwmark < spec.egress->stamp
          ? StrCat("meta mark { ", FormatMark(spec.fwmark), ", ", stamp, " } ")
          : StrCat("meta mark { ", stamp, ", ", FormatMark(spec.fwmark), " } ");
  for (std::string& rule : postrouting->rules) {
    bool skip = rule.size() < kAccept.size() ||
                rule.compare(rule.size() - kAccept.size(), kAccept.size(), kAccept) != 0;
    for (const std::string& prefix : unstamped) skip |= rule.rfind(prefix, 0) == 0;
    if (skip) continue;
    rule.insert(rule.size() - kAccept.size(), StrCat(" meta mark set ", stamp));
    if (size_t at = rule.find(mark); at != std::string::npos) rule.replace(at, mark.size(), either);
  }
}

struct ResolverSets {
  std::vector<std::string> v4, v4_loopback, v6;
};

ResolverSets SplitResolvers(const std::vector<IpAddress>& resolvers) {
  std::set<IpAddress> sorted(resolvers.begin(), resolvers.end());
  ResolverSets out;
  for (const IpAddress& r : sorted) {
    if (r.is_v4()) {
      (IsLoopback(r) ? out.v4_loopback : out.v4).push_back(r.ToString());
    } else if (!IsLoopback(r)) {  // ::1 is covered by the loopback accept
      out.v6.push_back(r.ToString());
    }
  }
  return out;
}

// The resolver hole: wgate's marked sockets may reach the listed resolvers on port 53. The
// conntrack entry is marked too, so that lockdown's input chain can let exactly these replies in.
// A loopback resolver (Docker's 127.0.0.11) is matched on any port: Docker DNATs 127.0.0.11:53 to
// a random port in the nat output hook, which runs before this filter hook sees the packet.
// `after_nat`: the same destinations for the final check at postrouting, where loopback is
// accepted anyway and the conntrack mark is already set.
void AddResolverHole(const RulesetSpec& spec, const ResolverSets& r, bool after_nat,
                     std::vector<std::string>* out) {
  const std::string mark = FormatMark(spec.fwmark);
  // The socket expression exists only up to the output hook; the check after NAT follows it.
  const std::string who = after_nat ? "" : CgroupClause(spec);
  if (!r.v4_loopback.empty() && !after_nat) {
    out->push_back(StrCat("meta mark ", mark, " ", who, "ip daddr ", SetOf(r.v4_loopback),
                          " meta l4proto { tcp, udp } accept"));
  }
  const std::string_view tail = after_nat ? " accept" : " ct mark set meta mark accept";
  if (!r.v4.empty()) {
    out->push_back(StrCat("meta mark ", mark, " ", who, "ip daddr ", SetOf(r.v4),
                          " meta l4proto { tcp, udp } th dport 53", tail));
  }
  if (!r.v6.empty()) {
    out->push_back(StrCat("meta mark ", mark, " ", who, "ip6 daddr ", SetOf(r.v6),
                          " meta l4proto { tcp, udp } th dport 53", tail));
  }
}

// IPv6 needs neighbour discovery to reach anything on a link; hop limit 255 keeps ND on-link.
std::string NeighbourDiscovery(std::string_view iface_match) {
  return StrCat(iface_match, "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ",
                "ip6 hoplimit 255 accept");
}

// Outgoing ND only from the unspecified address (duplicate address detection), a link-local
// address or one of the namespace's own: never a forged source.
void AddOutgoingNeighbourDiscovery(std::string_view iface_match, std::vector<std::string>* out) {
  out->push_back(NeighbourDiscovery(StrCat(iface_match, "ip6 saddr { ::, fe80::/10 } ")));
  out->push_back(NeighbourDiscovery(StrCat(iface_match, "fib saddr type local ")));
}

// Sorted union of two port lists.
std::vector<uint16_t> Union(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b) {
  std::set<uint16_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  return std::vector<uint16_t>(all.begin(), all.end());
}

Set PublishedUdpSet(std::string_view name, std::string_view address_type) {
  return Set{std::string(name),
             {StrCat("type ", address_type, " . inet_service . inet_service"), "size 65535",
              "flags dynamic,timeout", StrCat("timeout ", kPublishedUdpTimeoutSeconds, "s")}};
}

// What both states' output chains start with: the resolver hole, then Docker's resolver refused
// (before loopback is accepted, as it is reached over lo), then loopback.
Chain OutputHead(const RulesetSpec& spec, const ResolverSets& resolvers) {
  Chain output{"output", std::string(kOutputHeader), {}};
  AddResolverHole(spec, resolvers, /*after_nat=*/false, &output.rules);
  if (!spec.allow_docker_dns) {
    output.rules.push_back(
        StrCat("ip daddr ", kDockerDnsAddress, " meta l4proto { tcp, udp } goto refuse"));
  }
  output.rules.push_back("oifname \"lo\" accept");
  return output;
}

std::string FinalRefusal(Mode mode) {
  return StrCat("goto refuse comment \"wgate kill switch (", ModeName(mode), ")\"");
}

Chain RefuseChain() {
  // Fail fast for local programs: a TCP reset, or ICMP administratively prohibited (connect()
  // gets ECONNREFUSED or EHOSTUNREACH and sendmsg() gets EPERM, instead of a timeout).
  return Chain{"refuse",
               "",
               {"meta l4proto tcp reject with tcp reset",
                "meta nfproto ipv4 reject with icmp type admin-prohibited",
                "meta nfproto ipv6 reject with icmpv6 type admin-prohibited"}};
}

void RenderSet(const Set& set, std::string* out) {
  *out += StrCat("\tset ", set.name, " {\n");
  for (const std::string& line : set.lines) *out += StrCat("\t\t", line, "\n");
  *out += "\t}\n";
}

void RenderChain(const Chain& chain, std::string* out) {
  *out += StrCat("\tchain ", chain.name, " {\n");
  if (!chain.header.empty()) *out += StrCat("\t\t", chain.header, "\n");
  for (const std::string& rule : chain.rules) *out += StrCat("\t\t", rule, "\n");
  *out += "\t}\n";
}

// The replace-table preamble and the table block (shared/DESIGN.md: one transaction, no gap).
void RenderTable(std::string_view table, const std::vector<Set>& sets,
                 const std::vector<Chain>& chains, std::string* out) {
  *out += StrCat("add table ", table, "\n");
  *out += StrCat("delete table ", table, "\n");
  *out += StrCat("table ", table, " {\n");
  bool first = true;
  for (const Set& set : sets) {
    if (!first) *out += "\n";
    first = false;
    RenderSet(set, out);
  }
  for (const Chain& chain : chains) {
    if (!first) *out += "\n";
    first = false;
    RenderChain(chain, out);
  }
  *out += "}\n";
}

std::string Render(const Ruleset& ruleset) {
  std::string out = StrCat("# wgate kill switch (", ModeName(ruleset.mode), "): replaces table ",
                           kTable, " in one transaction.\n");
  RenderTable(kTable, ruleset.sets, ruleset.chains, &out);
  if (!ruleset.netdev_chains.empty()) RenderTable(kNetdevTable, {}, ruleset.netdev_chains, &out);
  return out;
}

// The device-level filter: what wgate's postrouting check stamped, and well-formed ARP (which
// passes no IP hook; its requests and replies carry only addresses).
std::vector<Chain> EgressChains(const RulesetSpec& spec) {
  if (!spec.egress) return {};
  return {Chain{"egress",
                StrCat("type filter hook egress device ", Ifname(spec.egress->device),
                       " priority filter; policy drop;"),
                {StrCat("meta mark ", FormatMark(spec.egress->stamp), " accept"),
                 "arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp operation { request, reply } "
                 "accept"}}};
}

Ruleset BuildLockdown(const RulesetSpec& spec) {
  const ResolverSets resolvers = SplitResolvers(spec.dns_hole_resolvers);
  Chain input{"input", std::string(kInputHeader), {"iifname \"lo\" accept"}};
  if (!resolvers.v4.empty() || !resolvers.v6.empty()) {
    input.rules.push_back(
        StrCat("ct state established,related ct mark ", FormatMark(spec.fwmark), " accept"));
  }
  Chain output = OutputHead(spec, resolvers);
  Chain postrouting{"postrouting", std::string(kPostroutingHeader), {"oifname \"lo\" accept"}};
  AddResolverHole(spec, resolvers, /*after_nat=*/true, &postrouting.rules);
  if (!resolvers.v6.empty()) {
    // No uplink is known in lockdown: ND on any interface, still nothing else.
    input.rules.push_back(NeighbourDiscovery(""));
    AddOutgoingNeighbourDiscovery("", &output.rules);
    AddOutgoingNeighbourDiscovery("", &postrouting.rules);
  }
  StampForEgress(spec, {"oifname \"lo\" "}, &postrouting);
  output.rules.push_back(FinalRefusal(Mode::kLockdown));

  Ruleset r;
  r.mode = Mode::kLockdown;
  r.chains = {input, Chain{"forward", std::string(kForwardHeader), {}}, output, postrouting,
              RefuseChain()};
  return r;
}

Ruleset BuildConnected(const RulesetSpec& spec) {
  const ResolverSets resolvers = SplitResolvers(spec.dns_hole_resolvers);
  const std::string mark = FormatMark(spec.fwmark);
  const std::string published_mark = FormatMark(kPublishedMark);
  const std::string up = Ifname(spec.uplink);
  const std::string tun = Ifname(spec.tunnel);
  const std::string ep_family = FamilyKeyword(spec.endpoint.ip);
  const std::string ep_addr = spec.endpoint.ip.ToString();
  const std::string ep_port = std::to_string(spec.endpoint.port);
  const std::string engine_port = std::to_string(spec.engine_port);
  // Without a tunnelled IPv6, the port holes are IPv4 only.
  const std::string v4_only = spec.ipv6_tunnelled ? "" : "meta nfproto ipv4 ";

  const PortGroups published{spec.input_ports, spec.input_tcp_ports, spec.input_udp_ports};
  const PortGroups forwarded{spec.vpn_input_ports, spec.vpn_input_tcp_ports,
                             spec.vpn_input_udp_ports};
  const std::vector<uint16_t> published_tcp = Union(spec.input_ports, spec.input_tcp_ports);
  const std::vector<uint16_t> published_udp = Union(spec.input_ports, spec.input_udp_ports);
  std::set<IpPrefix> lans;
  for (const IpPrefix& p : spec.lan_subnets) lans.insert(p.Network());
  const bool has_v6_lan =
      std::any_of(lans.begin(), lans.end(), [](const IpPrefix& p) { return p.addr.is_v6(); });
  const bool v6_on_uplink = spec.endpoint.ip.is_v6() || has_v6_lan || !resolvers.v6.empty() ||
                            (spec.ipv6_tunnelled && !published.empty());

  // The live UDP flows of published ports, one set per family the port holes serve.
  struct UdpFlows {
    std::string_view set, family, address_type;
  };
  std::vector<UdpFlows> udp_flows;
  if (!published_udp.empty()) {
    udp_flows.push_back({kPublishedUdpSets[0], "ip", "ipv4_addr"});
    if (spec.ipv6_tunnelled) udp_flows.push_back({kPublishedUdpSets[1], "ip6", "ipv6_addr"});
  }

  Chain input{"input", std::string(kInputHeader), {}};
  // Only the uplink reaches the engine's socket: a consumer's datagrams to it over lo (to
  // 127.0.0.1 or any local address) would fill its drop counters or push it into cookie mode.
  input.rules.push_back(StrCat("iifname \"lo\" udp dport ", engine_port, " drop"));
  input.rules.push_back(std::string(kConnectedLoopbackInput));
  // Before the established accept, so that every datagram from the far side renews its flow.
  for (const UdpFlows& f : udp_flows) {
    input.rules.push_back(StrCat("iifname ", up, " udp dport ", SetOf(PortStrings(published_udp)),
                                 " update @", f.set, " { ", f.family,
                                 " saddr . udp sport . udp dport }"));
  }
  input.rules.push_back("ct state established,related accept");
  // Also stateless, so the engine hears its server even if conntrack lost the flow; to the
  // engine's port only, so a forged server source reaches no other socket.
  input.rules.push_back(StrCat("iifname ", up, " ", ep_family, " saddr ", ep_addr, " udp sport ",
                               ep_port, " udp dport ", engine_port, " accept"));
  // Marks the connection as really opened from the uplink (kPublishedMark), for the output chain.
  AddPortRules(&input.rules, StrCat("iifname ", up, " ", v4_only), published, "dport",
               StrCat(" ct mark set ct mark | ", published_mark, " accept"));
  AddPortRules(&input.rules, StrCat("iifname ", tun, " ", v4_only), forwarded, "dport", " accept");
  if (v6_on_uplink) input.rules.push_back(NeighbourDiscovery(StrCat("iifname ", up, " ")));

  // The uplink's holes, shared by the output chain and the final check after NAT. The engine's
  // packets leave from its own port (and, where the kernel can tell, from wgate's own cgroup: the
  // output chain's copy only, as the socket expression ends at the output hook); replies only:
  // the conntrack entry must have been opened from
  // the far side, so a consumer cannot use a published port number as a source port to get out;
  // and it must have come in through the uplink (kPublishedMark; nft lists the bit test
  // `ct mark & M == M` as `M/1`), so a forged connection over lo cannot have "replies" either. A
  // UDP reply also needs its flow alive: the far side must keep sending.
  std::vector<std::string> uplink_holes;
  const std::string engine_hole = StrCat(ep_family, " daddr ", ep_addr, " udp sport ", engine_port,
                                         " udp dport ", ep_port, " accept");
  uplink_holes.push_back(StrCat("oifname ", up, " meta mark ", mark, " ", engine_hole));
  uplink_holes.push_back(StrCat("oifname ", tun, " ", v4_only, "accept"));
  for (const IpPrefix& lan : lans) {
    uplink_holes.push_back(
        StrCat("oifname ", up, " ", FamilyKeyword(lan.addr), " daddr ", lan.ToString(), " accept"));
  }
  const std::string reply = StrCat(" ct direction reply ct mark ", published_mark, "/1");
  if (!published_tcp.empty()) {
    uplink_holes.push_back(StrCat("oifname ", up, " ", v4_only, "tcp sport ",
                                  SetOf(PortStrings(published_tcp)), reply, " accept"));
  }
  for (const UdpFlows& f : udp_flows) {
    uplink_holes.push_back(StrCat("oifname ", up, " udp sport ", SetOf(PortStrings(published_udp)),
                                  reply, " ", f.family, " daddr . udp dport . udp sport @", f.set,
                                  " accept"));
  }
  if (v6_on_uplink) AddOutgoingNeighbourDiscovery(StrCat("oifname ", up, " "), &uplink_holes);

  Chain output = OutputHead(spec, resolvers);
  output.rules.insert(output.rules.end(), uplink_holes.begin(), uplink_holes.end());
  output.rules[output.rules.size() - uplink_holes.size()] =
      StrCat("oifname ", up, " meta mark ", mark, " ", CgroupClause(spec), engine_hole);
  output.rules.push_back(FinalRefusal(Mode::kConnected));

  Chain postrouting{"postrouting", std::string(kPostroutingHeader), {"oifname \"lo\" accept"}};
  AddResolverHole(spec, resolvers, /*after_nat=*/true, &postrouting.rules);
  postrouting.rules.insert(postrouting.rules.end(), uplink_holes.begin(), uplink_holes.end());
  StampForEgress(spec, {"oifname \"lo\" ", StrCat("oifname ", tun, " ")}, &postrouting);

  Ruleset r;
  r.mode = Mode::kConnected;
  for (const UdpFlows& f : udp_flows) r.sets.push_back(PublishedUdpSet(f.set, f.address_type));
  r.chains = {input, Chain{"forward", std::string(kForwardHeader), {}}, output, postrouting};
  if (!published.empty()) {
    // Replies of published connections are routed like wgate's own packets: out of the uplink.
    r.chains.push_back(
        Chain{std::string(kRerouteChain.name),
              std::string(kRerouteChain.header),
              {StrCat("ct direction reply ct mark ", published_mark, "/1 meta mark set ", mark)}});
  }
  r.chains.push_back(RefuseChain());
  return r;
}

}  // namespace

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kLockdown:
      return "lockdown";
    case Mode::kConnected:
      return "connected";
  }
  return "unknown";
}

std::string FormatMark(uint32_t mark) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", mark);
  return buf;
}

Status ValidateInterfaceName(std::string_view what, std::string_view name) {
  if (name.empty()) return Error(StrCat("firewall: ", what, " interface name is empty"));
  for (unsigned char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '=' || c == '+' || c == '.' || c == '-';
    if (!ok) {
      return Error(StrCat("firewall: ", what, " interface name ", Quote(name), " contains ",
                          Quote(std::string(1, static_cast<char>(c))),
                          "; only letters, digits and _=+.- are allowed"));
    }
  }
  if (name.size() > kMaxIfnameLength) {
    return Error(StrCat("firewall: ", what, " interface name ", Quote(name), " is ", name.size(),
                        " characters long; the limit is 15 (IFNAMSIZ - 1)"));
  }
  if (name == "." || name == "..") {
    return Error(StrCat("firewall: ", what, " interface name ", Quote(name), " is reserved"));
  }
  if (name == "lo") {
    return Error(StrCat("firewall: ", what, " interface name \"lo\" is the loopback interface"));
  }
  return Ok();
}

Status ValidateCgroupPath(std::string_view path) {
  if (path.empty()) return Error("cgroup path is empty");
  for (unsigned char c : path) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '@' || c == '/' || c == '-';
    if (!ok) {
      return Error(StrCat("cgroup path ", Quote(path.substr(0, 120)),
                          " has a character nft cannot be given safely"));
    }
  }
  for (std::string_view part : SplitTrimmed(path, '/')) {
    if (part == "..") return Error(StrCat("cgroup path ", Quote(path), " contains \"..\""));
  }
  return Ok();
}

Status ValidateSpec(const RulesetSpec& spec) {
  const bool needs_mark = spec.mode == Mode::kConnected || !spec.dns_hole_resolvers.empty();
  if (needs_mark && spec.fwmark == 0) {
    return Error(
        "firewall: fwmark is 0; the endpoint and resolver holes match wgate's own socket mark, "
        "which must be non-zero");
  }
  for (const IpAddress& r : spec.dns_hole_resolvers) {
    if (r.IsUnspecified()) {
      return Error(StrCat("firewall: DNS resolver ", r.ToString(), " is an unspecified address"));
    }
  }
  if (spec.engine_cgroup) {
    const OwnCgroup& cg = *spec.engine_cgroup;
    if (cg.level < 0 || cg.level > 255) {
      return Error(StrCat("firewall: cgroup level ", cg.level, " is out of range 0-255"));
    }
    if (Status s = ValidateCgroupPath(cg.path); !s)
      return Error("firewall: " + s.error().message());
  }
  if (spec.egress) {
    if (Status s = ValidateInterfaceName("egress filter", spec.egress->device); !s) return s;
    if (spec.egress->stamp == 0 || spec.egress->stamp == spec.fwmark ||
        spec.egress->stamp == kPublishedMark) {
      return Error(StrCat("firewall: egress stamp ", FormatMark(spec.egress->stamp),
                          " must be non-zero and differ from the fwmark and ",
                          FormatMark(kPublishedMark)));
    }
  }
  if (spec.mode == Mode::kLockdown) return Ok();

  // Checked in the connected state only: lockdown must never be refused for it, and a wgate that
  // never connects with this fwmark never marks a published connection that lockdown could match.
  if (spec.fwmark == kPublishedMark) {
    return Error(StrCat("firewall: fwmark ", FormatMark(spec.fwmark),
                        " is reserved: wgate marks the connections of published ports with it"));
  }
  if (Status s = ValidateInterfaceName("uplink", spec.uplink); !s) return s;
  if (Status s = ValidateInterfaceName("tunnel", spec.tunnel); !s) return s;
  if (spec.uplink == spec.tunnel) {
    return Error(StrCat("firewall: uplink and tunnel are both ", Quote(spec.uplink)));
  }
  const std::string ep = spec.endpoint.ToString();
  if (spec.endpoint.ip.IsUnspecified()) {
    return Error(StrCat("firewall: endpoint ", ep, " has an unspecified address"));
  }
  if (IsLoopback(spec.endpoint.ip)) {
    return Error(StrCat("firewall: endpoint ", ep,
                        " is a loopback address; it must be reached through the uplink"));
  }
  if (spec.endpoint.port == 0) {
    return Error(StrCat("firewall: endpoint ", ep, " has port 0; expected 1-65535"));
  }
  for (const IpPrefix& lan : spec.lan_subnets) {
    if (lan.len == 0) {
      return Error(StrCat("firewall: LAN subnet ", lan.ToString(),
                          " would open the whole uplink; list the local subnets instead"));
    }
    if (lan.len < 0 || lan.len > lan.addr.bit_length()) {
      return Error(StrCat("firewall: LAN subnet ", lan.ToString(), " has prefix length ", lan.len,
                          ", out of range 1-", lan.addr.bit_length()));
    }
  }
  if (spec.engine_port == 0) {
    return Error(
        "firewall: engine port is 0; the endpoint hole matches the engine's bound UDP port, "
        "expected 1-65535");
  }
  for (const auto* ports : {&spec.input_ports, &spec.input_tcp_ports, &spec.input_udp_ports}) {
    if (Status s = CheckPorts("input port", *ports); !s) return s;
  }
  for (const auto* ports : {&spec.input_ports, &spec.input_udp_ports}) {
    if (std::find(ports->begin(), ports->end(), spec.engine_port) != ports->end()) {
      return Error(StrCat("firewall: UDP input port ", spec.engine_port,
                          " is the engine's own port; publishing it would let anyone reach "
                          "the engine's socket"));
    }
  }
  for (const auto* ports :
       {&spec.vpn_input_ports, &spec.vpn_input_tcp_ports, &spec.vpn_input_udp_ports}) {
    if (Status s = CheckPorts("VPN input port", *ports); !s) return s;
  }
  return Ok();
}

Result<Ruleset> BuildRuleset(const RulesetSpec& spec) {
  if (Status s = ValidateSpec(spec); !s) return s.error();
  Ruleset r = spec.mode == Mode::kLockdown ? BuildLockdown(spec) : BuildConnected(spec);
  r.netdev_chains = EgressChains(spec);
  r.script = Render(r);
  return r;
}

}  // namespace wgate::firewall
