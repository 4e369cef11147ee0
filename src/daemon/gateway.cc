#include "daemon/gateway.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/log.h"
#include "base/strings.h"
#include "config/config_file.h"
#include "config/env_config.h"
#include "daemon/config_source.h"
#include "daemon/file_util.h"
#include "daemon/hooks.h"
#include "dataplane/udp.h"

namespace wgate::daemon {

struct Gateway::Plan {
  config::WgConfig config;
  config::GatewaySettings settings;
  std::string interface;
  uint32_t fwmark = kDefaultFwMark;
  SocketAddress endpoint;  // resolved
  std::string endpoint_text;
  netlink::Uplink uplink;
  uint32_t mtu = 1420;
  bool ipv6_tunnelled = false;
  std::vector<IpAddress> dns;
  EngineTuning tuning;
};

namespace {

netlink::Rule MakeRule(IpAddress::Family family, uint32_t priority, uint32_t table) {
  netlink::Rule r;
  r.family = family;
  r.priority = priority;
  r.table = table;
  return r;
}

// "file:line: message" without the "warning: " that Diagnostic::ToString adds: the log says it.
std::string Located(const config::Diagnostic& d) {
  config::Diagnostic copy = d;
  copy.severity = config::Diagnostic::Severity::kError;
  return copy.ToString();
}

}  // namespace

Status RemoveWgateRules(netlink::RouteNetlink& net) {
  Status result = Ok();
  for (IpAddress::Family family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    auto rules = net.ListRules(family);
    if (!rules.ok()) {
      result = rules.error();
      continue;
    }
    for (const netlink::Rule& r : *rules) {
      bool ours = r.table == kFallbackTable || (r.priority && *r.priority >= kRulePriorityReplies &&
                                                *r.priority <= kRulePriorityTunnel);
      if (ours) {
        if (Status s = net.DeleteRule(r); !s.ok() && result.ok()) result = s;
      }
    }
  }
  std::vector<uint32_t> tables = {kFallbackTable};
  if (auto in_use = net.TablesInUse(); in_use.ok())
    tables.insert(tables.end(), in_use->begin(), in_use->end());
  for (uint32_t t : tables) {
    if (Status s = net.RemoveBlackholeDefaults(t); !s.ok() && result.ok()) result = s;
  }
  if (auto local = net.ListRoutes(IpAddress::Family::kV4, netlink::kTableLocal); local.ok()) {
    for (const netlink::Route& r : *local) {
      if (r.type == netlink::RouteType::kBlackhole && r.dst.ToString() == "127.0.0.11/32") {
        if (Status s = net.DeleteRoute(r); !s.ok() && result.ok()) result = s;
      }
    }
  }
  return result;
}

Status InstallBlackholeFallback(netlink::RouteNetlink& net, const FallbackSystem& sys,
                                std::vector<std::string>* problems) {
  // Fail closed without a firewall: every route of the namespace leads nowhere.
  LogError("firewall unavailable: falling back to blackhole routes in every routing table");
  auto tables = net.TablesInUse();
  std::vector<uint32_t> list = tables.ok() ? *tables : std::vector<uint32_t>{netlink::kTableMain};
  if (std::find(list.begin(), list.end(), netlink::kTableMain) == list.end())
    list.push_back(netlink::kTableMain);
  list.push_back(kFallbackTable);
  for (uint32_t t : list) {
    if (Status s = net.InstallBlackholeDefaults(t); !s.ok()) {
      return Error("neither the firewall nor the blackhole fallback could be installed: " +
                   s.error().message());
    }
  }
  // Every lookup but the local table's ends in the fallback table's blackholes, on-link subnets
  // included; Docker's resolver 127.0.0.11 is a local address, so it gets a blackhole of its own.
  for (IpAddress::Family family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    netlink::Rule rule = MakeRule(family, kRulePriorityFallback, kFallbackTable);
    if (Status s = net.AddRule(rule); !s.ok() && s.error().sys_errno() != EEXIST) {
      return Error("the blackhole fallback's policy rule could not be installed: " +
                   s.error().message());
    }
  }
  netlink::Route docker_dns;
  docker_dns.dst = *IpPrefix::Parse("127.0.0.11/32");
  docker_dns.type = netlink::RouteType::kBlackhole;
  docker_dns.table = netlink::kTableLocal;
  if (Status s = net.ReplaceRoute(docker_dns); !s.ok())
    LogWarn("blackhole 127.0.0.11: " + s.error().message());
  // Routes cannot stop what names its device (IP_UNICAST_IF, SO_BINDTODEVICE), broadcast and
  // link-local multicast, nor the kernel's own IPv6 link-local messages (MLD reports, router
  // solicitations): the links go down, and IPv6 off where /proc/sys is writable.
  ShutOutcome shut = ShutLinks(net, sys.record_path);
  if (std::string names = shut.TakenDownNames(); !names.empty()) {
    LogError(StrCat("blackhole fallback: took down ", names, " (recorded in ", sys.record_path,
                    " for the unblock)"));
  }
  problems->insert(problems->end(), shut.problems.begin(), shut.problems.end());
  (void)SwitchIpv6Off(sys, problems);
  for (const std::string& p : *problems) LogError("blackhole fallback: " + p);
  return Ok();
}

std::string FallbackProblem(const std::vector<std::string>& problems) {
  std::string text =
      "nftables is unavailable; the namespace is shut by blackhole routes and its links are down";
  for (const std::string& p : problems) text += "; " + p;
  return text;
}

Gateway::~Gateway() = default;

Gateway::Gateway(GatewayDeps deps) : deps_(deps), lookups_(deps.clock) {
  WGATE_CHECK(deps_.net && deps_.engine && deps_.resolv && deps_.resolver && deps_.clock &&
              deps_.hooks);
  status_.pid = static_cast<int>(::getpid());
}

Status Gateway::ApplyLockdown(const std::vector<IpAddress>& dns_hole, uint32_t fwmark) {
  if (!deps_.firewall) return Ok();  // the blackhole routes installed by Lockdown() hold
  firewall::RulesetSpec spec;
  spec.mode = firewall::Mode::kLockdown;
  spec.allow_docker_dns = allow_docker_dns_;
  spec.dns_hole_resolvers = dns_hole;
  spec.fwmark = dns_hole.empty() ? 0 : fwmark;
  Status s = ApplyWithProtections(spec, uplink_ ? uplink_->dev : "");
  if (s.ok()) {
    status_.firewall = "lockdown";
    status_.rules_verified = true;
    status_.rules_problem.clear();
  }
  return s;
}

Status Gateway::ApplyWithProtections(firewall::RulesetSpec spec, const std::string& uplink) {
  if (!netraw_) return deps_.firewall->Apply(spec);
  netraw_->AddTo(&spec, uplink);
  Status s = deps_.firewall->Apply(spec);
  if (!s.ok() && spec.egress) {
    // The filter is an extra; it never stands in the way of a ruleset.
    netraw_->DisableEgress("the kernel refused it on " + spec.egress->device + ": " +
                           s.error().message());
    LogWarn("the uplink egress filter was refused (" + s.error().message() +
            "); going on without it");
    spec.egress.reset();
    s = deps_.firewall->Apply(spec);
  }
  status_.protections.clear();
  for (const Protection& p : netraw_->Describe()) status_.protections.push_back(p.ToString());
  return s;
}

void Gateway::UseNetRawProtections(NetRawProtections protections) {
  netraw_ = std::move(protections);
  if (!deps_.firewall || active_) return;  // a connected ruleset takes them with the next apply
  if (Status s = ApplyLockdown({}, 0); !s.ok()) LogError("firewall: " + s.error().message());
}

Status Gateway::Lockdown() {
  Status s = InstallLockdown();
  if (!s.ok()) return s;
  // Behind the lockdown, before any consumer could have been let in on anything: the resolvers
  // of the namespace's original resolv.conf, from the record or the backup, never the file as
  // it is now (a consumer may have written it since).
  if (deps_.establish_resolv_origin) deps_.establish_resolv_origin();
  bootstrap_resolvers_ = deps_.resolv->OriginalNameservers();
  std::string list;
  for (const IpAddress& r : bootstrap_resolvers_) list += (list.empty() ? "" : ", ") + r.ToString();
  LogInfo(list.empty() ? std::string("no resolver recorded at lockdown: a host-name Endpoint "
                                     "cannot be looked up")
                       : "a host-name Endpoint will be looked up with " + list +
                             " (the namespace's resolv.conf at lockdown)");
  return s;
}

Status Gateway::InstallLockdown() {
  // The uplink holds the default route now; a blackhole fallback would hide it later.
  if (auto uplink = deps_.net->FindUplink(); uplink.ok()) uplink_ = *uplink;
  if (deps_.firewall) {
    Status s = ApplyLockdown({}, 0);
    if (s.ok()) {
      // Only now, behind the lockdown: a killed earlier run leaves its policy rules (and maybe a
      // blackhole fallback); they would collide with ours or break the tunnel's routing.
      if (Status c = RemoveWgateRules(*deps_.net); !c.ok())
        LogWarn("removing stale rules: " + c.error().message());
      // A fallback's shut links too: behind the firewall they may come up again.
      if (Status c = RestoreFallback(*deps_.net, deps_.fallback); !c.ok())
        LogWarn("restoring the links a blackhole fallback shut: " + c.error().message());
      return s;
    }
    LogError("firewall: cannot install the lockdown ruleset: " + s.error().message());
    deps_.firewall = nullptr;
  }
  std::vector<std::string> problems;
  if (Status s = InstallBlackholeFallback(*deps_.net, deps_.fallback, &problems); !s.ok()) {
    return s;
  }
  fallback_installed_ = true;
  status_.firewall = "blackhole fallback (nftables unavailable)";
  status_.rules_verified = false;
  status_.rules_problem = FallbackProblem(problems);
  return Ok();
}

void Gateway::BlockTransient(const std::string& reason) {
  Block(reason + " (retrying)");
  transient_failure_ = true;
}

void Gateway::Block(const std::string& reason) {
  LogError("blocked: " + reason);
  transient_failure_ = false;
  stale_tx_bytes_.reset();
  status_.state = GatewayState::kBlocked;
  status_.reason = reason;
  status_.endpoint.clear();
  status_.last_handshake.reset();
}

Result<std::unique_ptr<Gateway::Plan>> Gateway::MakePlan(const config::WgConfig& cfg,
                                                         const config::GatewaySettings& settings) {
  auto plan = std::make_unique<Plan>();
  plan->config = cfg;
  plan->settings = settings;
  plan->fwmark = cfg.interface.fwmark ? cfg.interface.fwmark : kDefaultFwMark;

  std::vector<const config::PeerConfig*> servers;
  for (const config::PeerConfig& p : cfg.peers) {
    if (p.endpoint) servers.push_back(&p);
  }
  if (cfg.peers.empty())
    return Error(cfg.source + ": no [Peer]: wgate needs the VPN server's [Peer] section");
  if (servers.empty()) {
    return Error(StrCat(cfg.source, ":", cfg.peers[0].line,
                        ": [Peer] has no Endpoint: wgate needs to know where the VPN server is"));
  }
  if (servers.size() > 1) {
    return Error(StrCat(
        cfg.source, ":", servers[1]->line,
        ": a second [Peer] with an Endpoint; wgate run connects to one VPN server per config"));
  }
  const config::Endpoint& ep = *servers[0]->endpoint;
  plan->endpoint_text = ep.ToString();
  if (ep.ip) plan->endpoint = SocketAddress{*ep.ip, ep.port};

  for (const IpPrefix& a : cfg.interface.addresses) plan->ipv6_tunnelled |= a.addr.is_v6();
  plan->tuning = {settings.engine_workers, settings.tun_offload};
  plan->dns = cfg.interface.dns_servers.empty() ? settings.dns : cfg.interface.dns_servers;
  // A LAN subnet is reached outside the tunnel: one that holds the tunnel's DNS server or its own
  // address would send that traffic out in the clear (Mullvad's 10.64.0.1 in a LAN of 10.0.0.0/8).
  for (const IpPrefix& lan : settings.lan_subnets) {
    for (const IpAddress& d : plan->dns) {
      if (lan.Contains(d)) {
        return Error("WGATE_LAN_SUBNETS: " + lan.ToString() + " contains the tunnel's DNS server " +
                     d.ToString() +
                     ": its queries would leave outside the tunnel; narrow the subnet");
      }
    }
    for (const IpPrefix& a : cfg.interface.addresses) {
      if (lan.Contains(a.addr)) {
        return Error("WGATE_LAN_SUBNETS: " + lan.ToString() + " contains the tunnel address " +
                     a.addr.ToString() + "; narrow the subnet");
      }
    }
  }
  return plan;
}

Status Gateway::ResolveEndpoint(Plan* plan) {
  const config::PeerConfig* server = nullptr;
  for (const config::PeerConfig& p : plan->config.peers) {
    if (p.endpoint) server = &p;
  }
  const config::Endpoint& ep = *server->endpoint;
  if (ep.ip) return Ok();
  // The same text as the last good lookup (a reload, SIGHUP, a retry): the same address, and no
  // query that whoever answers DNS could use to move the endpoint.
  if (std::optional<SocketAddress> cached = lookups_.Cached(plan->endpoint_text)) {
    plan->endpoint = *cached;
    return Ok();
  }
  const std::string quoted = "Endpoint \"" + plan->endpoint_text + "\"";
  if (bootstrap_resolvers_.empty()) {
    return Error(quoted +
                 " is a host name and no resolver was recorded at lockdown (the namespace's "
                 "original /etc/resolv.conf named no nameserver, or was an earlier wgate's "
                 "rewrite with no record of the original left); write the server's IP address "
                 "in Endpoint");
  }
  if (Duration wait = lookups_.WaitBeforeLookup(plan->endpoint_text); wait > Duration::zero()) {
    return Error(StrCat("cannot resolve ", quoted, ": ", lookups_.LastError(plan->endpoint_text),
                        "; next lookup in ", std::chrono::ceil<std::chrono::seconds>(wait).count(),
                        " s"));
  }
  const std::vector<IpAddress>& resolvers = bootstrap_resolvers_;
  // The hole: port 53 to the namespace's original resolvers, for wgate's marked sockets only.
  if (Status s = ApplyLockdown(resolvers, plan->fwmark); !s.ok()) return s;
  auto addrs = deps_.resolver->Resolve(ep.host, resolvers, plan->fwmark);
  if (Status s = ApplyLockdown({}, 0); !s.ok()) {  // close it again at once
    resolver_hole_open_ = true;                    // Tick keeps trying; status shows it
    status_.rules_verified = false;
    status_.rules_problem = "the resolver hole could not be closed: " + s.error().message();
    lookups_.Failed(plan->endpoint_text, status_.rules_problem);
    return s;
  }
  if (!addrs.ok()) {
    lookups_.Failed(plan->endpoint_text, addrs.error().message());
    return Error("cannot resolve " + quoted + ": " + addrs.error().message());
  }
  // IPv4 unless the uplink only routes IPv6.
  bool prefer_v6 = plan->uplink.gateway6 && !plan->uplink.gateway4;
  std::optional<IpAddress> chosen;
  for (const IpAddress& a : *addrs) {
    if (!chosen || (a.is_v6() == prefer_v6 && chosen->is_v6() != prefer_v6)) chosen = a;
  }
  if (!chosen) {
    lookups_.Failed(plan->endpoint_text, "no usable address");
    return Error(quoted + " resolved to no usable address");
  }
  plan->endpoint = SocketAddress{*chosen, ep.port};
  lookups_.Succeeded(plan->endpoint_text, plan->endpoint);
  LogInfo("resolved " + ep.host + " to " + chosen->ToString());
  return Ok();
}

Status Gateway::ConfigureRouting(const Plan& plan) {
  netlink::RouteNetlink& net = *deps_.net;
  const std::string& dev = plan.interface;
  const config::InterfaceConfig& ifc = plan.config.interface;
  for (const IpPrefix& a : ifc.addresses) {
    if (Status s = net.AddAddress(dev, a); !s.ok()) return s;
  }
  if (Status s = net.SetMtu(dev, plan.mtu); !s.ok()) return s;
  if (Status s = net.SetLinkUp(dev, true); !s.ok()) return s;

  // Routes for the AllowedIPs, as wg-quick: a default route goes into its own table M, reached
  // by every packet not marked M; the engine's marked packets use the main table (the uplink).
  const config::RoutingTable& table = ifc.table;
  if (table.kind == config::RoutingTable::Kind::kOff) return Ok();
  uint32_t default_table = table.kind == config::RoutingTable::Kind::kId ? table.id : plan.fwmark;
  bool policy_routing = table.kind == config::RoutingTable::Kind::kAuto;
  bool default_v4 = false, default_v6 = false;
  for (const config::PeerConfig& p : plan.config.peers) {
    for (const IpPrefix& prefix : p.allowed_ips) {
      if (prefix.addr.is_v6() && !plan.ipv6_tunnelled) continue;  // the firewall drops v6 anyway
      netlink::Route r;
      r.dst = prefix;
      r.dev = dev;
      if (prefix.len == 0 && policy_routing) {
        r.table = default_table;
        (prefix.addr.is_v4() ? default_v4 : default_v6) = true;
      } else {
        r.table = table.kind == config::RoutingTable::Kind::kId ? table.id : netlink::kTableMain;
      }
      if (Status s = net.ReplaceRoute(r); !s.ok()) return s;
    }
  }
  auto add_rule = [&](netlink::Rule rule) -> Status {
    if (Status s = net.AddRule(rule); !s.ok()) return s;
    installed_rules_.push_back(rule);
    return Ok();
  };
  for (auto [family, wanted] : {std::pair{IpAddress::Family::kV4, default_v4},
                                std::pair{IpAddress::Family::kV6, default_v6}}) {
    if (!wanted) continue;
    if (!plan.settings.input_ports.empty()) {
      // Replies to LAN clients of published ports leave from the uplink's address: main table.
      auto addrs = net.ListAddresses(plan.uplink.dev);
      if (addrs.ok()) {
        for (const netlink::Address& a : *addrs) {
          if (a.prefix.addr.family() != family) continue;
          netlink::Rule r = MakeRule(family, kRulePriorityReplies, netlink::kTableMain);
          r.src = IpPrefix{a.prefix.addr, a.prefix.addr.bit_length()};
          if (Status s = add_rule(r); !s.ok()) return s;
        }
      }
    }
    netlink::Rule suppress = MakeRule(family, kRulePrioritySuppress, netlink::kTableMain);
    suppress.suppress_prefixlength = 0;
    if (Status s = add_rule(suppress); !s.ok()) return s;
    netlink::Rule tunnel = MakeRule(family, kRulePriorityTunnel, default_table);
    tunnel.invert = true;
    tunnel.fwmark = plan.fwmark;
    if (Status s = add_rule(tunnel); !s.ok()) return s;
  }
  // LAN subnets not already on a link of the uplink go via its gateway, in main.
  for (const IpPrefix& lan : plan.settings.lan_subnets) {
    std::optional<IpAddress> gw = lan.addr.is_v4() ? plan.uplink.gateway4 : plan.uplink.gateway6;
    auto routes = net.ListRoutes(lan.addr.family(), netlink::kTableMain);
    bool covered = false;
    if (routes.ok()) {
      for (const netlink::Route& r : *routes) {
        covered |= !r.is_default() && r.dev == plan.uplink.dev && r.dst.len <= lan.len &&
                   r.dst.Contains(lan.addr);
      }
    }
    if (covered || !gw) continue;
    netlink::Route r;
    r.dst = lan.Network();
    r.dev = plan.uplink.dev;
    r.gateway = gw;
    if (Status s = net.ReplaceRoute(r); !s.ok()) return s;
    installed_routes_.push_back(r);
  }
  return Ok();
}

namespace {

// The engine's UDP port, known before the engine binds it: the connected ruleset, applied before
// the engine starts, matches it. The config's ListenPort, else one the kernel finds free in both
// families (the engine binds it a moment later; if something took it meanwhile, the engine's
// bind fails and the bring-up is retried).
Result<uint16_t> ChooseEnginePort(const config::WgConfig& config) {
  if (config.interface.listen_port.value_or(0) != 0) return *config.interface.listen_port;
  auto probe = dataplane::BindPair(0, 0);
  if (!probe.ok()) return probe.error().Wrap("choosing the engine's UDP port");
  return probe->port;
}

}  // namespace

Status Gateway::BringUp(const Plan& plan) {
  // The connected ruleset accepts everything out of the tunnel interface: it must be ours.
  if (auto exists = deps_.net->LinkExists(plan.interface); exists.ok() && *exists) {
    return Error("interface " + plan.interface +
                 " already exists in this namespace and is not wgate's; choose another name "
                 "(WGATE_INTERFACE)");
  }
  Result<uint16_t> engine_port = ChooseEnginePort(plan.config);
  if (!engine_port.ok()) return engine_port.error();
  config::WgConfig engine_config = plan.config;
  engine_config.interface.listen_port = *engine_port;
  firewall::RulesetSpec spec;
  spec.mode = firewall::Mode::kConnected;
  spec.fwmark = plan.fwmark;
  spec.engine_port = *engine_port;
  spec.allow_docker_dns = allow_docker_dns_;
  spec.uplink = plan.uplink.dev;
  spec.tunnel = plan.interface;
  spec.endpoint = plan.endpoint;
  spec.lan_subnets = plan.settings.lan_subnets;
  // "8080" opens TCP and UDP, "8080/tcp" only TCP, as the user wrote it.
  auto split = [](const std::vector<config::Port>& ports, std::vector<uint16_t>* both,
                  std::vector<uint16_t>* tcp, std::vector<uint16_t>* udp) {
    for (const config::Port& p : ports) {
      bool is_tcp = p.protocol == config::Port::Protocol::kTcp;
      bool is_udp = p.protocol == config::Port::Protocol::kUdp;
      (is_tcp ? tcp : is_udp ? udp : both)->push_back(p.number);
    }
  };
  split(plan.settings.input_ports, &spec.input_ports, &spec.input_tcp_ports, &spec.input_udp_ports);
  split(plan.settings.vpn_input_ports, &spec.vpn_input_ports, &spec.vpn_input_tcp_ports,
        &spec.vpn_input_udp_ports);
  spec.ipv6_tunnelled = plan.ipv6_tunnelled;
  if (deps_.firewall) {
    if (Status s = ApplyWithProtections(spec, plan.uplink.dev); !s.ok()) return s;
    status_.firewall = "connected";
  }
  deps_.hooks->Start("PreUp", plan.config.interface.pre_up, plan.interface);  // not waited for
  if (Status s = deps_.engine->Start(plan.interface, engine_config, plan.fwmark, plan.endpoint,
                                     plan.mtu, plan.tuning);
      !s.ok())
    return s;
  if (Status s = ConfigureRouting(plan); !s.ok()) return s;
  if (plan.dns.empty()) {
    status_.warnings.push_back(
        "no DNS in the config and no WGATE_DNS: consumers cannot resolve names");
  } else if (Status s = deps_.resolv->Apply(plan.dns, plan.config.interface.dns_search); !s.ok()) {
    status_.warnings.push_back("could not write resolv.conf: " + s.error().message());
  }
  deps_.hooks->Start("PostUp", plan.config.interface.post_up, plan.interface);
  return Ok();
}

void Gateway::TearDown() {
  // Up hooks would go on configuring a tunnel that is going away, and the Down hooks (queued
  // behind them) undo what they did: stop them rather than make the Down hooks wait.
  deps_.hooks->Cancel("PreUp");
  deps_.hooks->Cancel("PostUp");
  if (active_)
    deps_.hooks->Start("PreDown", active_->config.interface.pre_down, active_->interface);
  deps_.engine->Stop();
  for (const netlink::Rule& r : installed_rules_) (void)deps_.net->DeleteRule(r);
  for (const netlink::Route& r : installed_routes_) (void)deps_.net->DeleteRoute(r);
  installed_rules_.clear();
  installed_routes_.clear();
  if (active_)
    deps_.hooks->Start("PostDown", active_->config.interface.post_down, active_->interface);
  active_.reset();
}

void Gateway::CollectHookFailures() {
  for (const HookFailure& f : deps_.hooks->TakeFailures()) status_.warnings.push_back(f.ToString());
}

void Gateway::Load(const std::optional<std::string>& config_flag, const config::Environment& env) {
  config::SettingsResult settings = config::ReadSettings(env);
  for (const config::Diagnostic& d : settings.diagnostics.all()) {
    if (!d.is_error()) LogWarn(Located(d));
  }
  SetLogLevel(settings.settings.log_level);
  if (settings.diagnostics.has_errors()) {
    if (active_) TearDown();
    (void)ApplyLockdown({}, 0);
    Block(settings.diagnostics.all()[0].ToString());
    return;
  }
  if (allow_docker_dns_ != settings.settings.allow_docker_dns && !active_) {
    allow_docker_dns_ = settings.settings.allow_docker_dns;
    (void)ApplyLockdown({}, 0);
  }
  allow_docker_dns_ = settings.settings.allow_docker_dns;

  ConfigLocation where = FindConfig(config_flag, settings.settings.config_path, env);
  status_.config_path = where.path;
  config::ParseResult parsed = where.from_environment
                                   ? config::ParseEnvConfig(env, config::ReadSecretFile)
                                   : config::LoadWgQuickFile(where.path);
  std::vector<std::string> warnings;
  if (!where.warning.empty()) {
    LogWarn(where.warning);
    warnings.push_back(where.warning);
  }
  std::string first_error;
  size_t errors = 0;
  for (const config::Diagnostic& d : parsed.diagnostics.all()) {
    (d.is_error() ? LogError : LogWarn)(Located(d));
    if (!d.is_error()) warnings.push_back(d.ToString());
    if (d.is_error() && errors++ == 0) first_error = d.ToString();
  }
  std::string failure;
  std::unique_ptr<Plan> plan;
  if (!parsed.config) {
    failure = errors > 1 ? StrCat(first_error, " (and ", errors - 1, " more)") : first_error;
  } else if (auto name = ChooseInterfaceName(settings.settings.interface, where.path); !name.ok()) {
    failure = name.error().message();
  } else if (auto made = MakePlan(*parsed.config, settings.settings); !made.ok()) {
    failure = made.error().message();
  } else {
    plan = std::move(*made);
    plan->interface = *name;
  }
  if (!failure.empty()) {
    if (active_) {
      // Keep the working tunnel: an editor's half-written file must not cut the consumers off.
      status_.warnings.push_back("config reload failed, still running the previous config: " +
                                 failure);
      LogWarn(status_.warnings.back());
      return;
    }
    (void)ApplyLockdown({}, 0);
    Block(failure);
    return;
  }

  if (!deps_.firewall) {
    // Without a firewall only blackhole routes protect the namespace, and a blackhole default in
    // the main table ends the kernel's rule walk before any tunnel route is consulted: the tunnel
    // could not carry traffic. Say so instead of pretending to connect.
    Block(
        "nftables is unavailable: every default route is blackholed and the tunnel stays down "
        "(wgate opens the namespace only behind its firewall)");
    return;
  }
  // A valid new config: the old tunnel goes first (the lockdown holds meanwhile).
  if (active_) {
    TearDown();
    (void)ApplyLockdown({}, 0);
  }
  config_warnings_ = warnings;
  status_.warnings = warnings;
  status_.interface = plan->interface;

  if (!uplink_ || deps_.firewall) {  // a Docker network reconnect may have changed it
    auto uplink = deps_.net->FindUplink();
    if (!uplink.ok()) {
      BlockTransient("cannot find the uplink (the interface with the default route): " +
                     uplink.error().message());
      return;
    }
    uplink_ = *uplink;
  }
  plan->uplink = *uplink_;
  if (plan->config.interface.mtu) {
    plan->mtu = static_cast<uint32_t>(*plan->config.interface.mtu);
  } else {
    plan->mtu =
        plan->uplink.mtu > kWireGuardOverhead + 576 ? plan->uplink.mtu - kWireGuardOverhead : 1420;
  }
  status_.state = GatewayState::kConnecting;
  status_.reason = "resolving the endpoint";
  if (Status s = ResolveEndpoint(plan.get()); !s.ok()) {
    BlockTransient(s.error().message());
    return;
  }
  status_.endpoint = plan->endpoint.ToString();
  Activate(std::move(plan), "bring-up failed: ");
}

bool Gateway::Activate(std::unique_ptr<Plan> plan, std::string_view failure) {
  status_.state = GatewayState::kConnecting;
  stale_tx_bytes_.reset();  // idleness is judged per tunnel
  if (Status s = BringUp(*plan); !s.ok()) {
    TearDown();
    (void)ApplyLockdown({}, 0);
    BlockTransient(std::string(failure) + s.error().message());
    return false;
  }
  active_ = std::move(plan);
  status_.reason.clear();
  LogInfo(StrCat("tunnel ", active_->interface, " up towards ", status_.endpoint, " (uplink ",
                 active_->uplink.ToString(), ", mtu ", active_->mtu, ")"));
  VerifyRules();
  return true;
}

void Gateway::VerifyRules() {
  if (!deps_.firewall) return;
  firewall::Verification v = deps_.firewall->Verify();
  if (v.ok()) {
    status_.rules_verified = true;
    status_.rules_problem.clear();
    return;
  }
  LogError(v.Summary() + "; re-applying");
  status_.rules_verified = false;
  status_.rules_problem = v.Summary();
  ++status_.rules_reapplied;
  if (Status s = deps_.firewall->Reapply(); !s.ok()) {
    LogError("firewall: re-apply failed: " + s.error().message());
    return;
  }
  // Verified again after the re-apply; the problem stays visible in rules_reapplied.
  status_.rules_verified = deps_.firewall->Verify().ok();
  if (status_.rules_verified) status_.rules_problem.clear();
}

void Gateway::Tick() {
  if (fallback_installed_) {  // nothing but loopback may come up while the fallback holds
    bool reshut = false;
    std::vector<std::string> problems =
        KeepLinksShut(*deps_.net, deps_.fallback.record_path, &reshut);
    status_.rules_reapplied += reshut;
    if (!problems.empty()) status_.rules_problem = FallbackProblem(problems);
  }
  if (resolver_hole_open_) {
    if (Status s = ApplyLockdown({}, 0); !s.ok()) {
      LogError("firewall: the resolver hole is still open: " + s.error().message());
      return;
    }
    resolver_hole_open_ = false;
  }
  VerifyRules();
  if (!active_) return;
  TunnelHealth h = deps_.engine->Health();
  auto link = deps_.net->LinkExists(active_->interface);
  if (!h.running || (link.ok() && !*link)) {
    LogError("tunnel interface " + active_->interface + " is gone; bringing it back up");
    std::unique_ptr<Plan> plan = std::move(active_);
    TearDown();
    Activate(std::move(plan), "tunnel lost and could not be restored: ");
    return;
  }
  status_.rx_bytes = h.rx_bytes;
  status_.tx_bytes = h.tx_bytes;
  status_.last_handshake = h.last_handshake;
  // The server's silence shows first as a handshake nobody answers, long before the last one
  // ages out: with a consumer sending, WireGuard starts one 15 s after its last reply.
  if (h.handshake_pending_since &&
      deps_.clock->Now() - *h.handshake_pending_since >= kHandshakeUnanswered) {
    stale_tx_bytes_.reset();
    status_.state = GatewayState::kConnecting;
    status_.reason = StrCat("the VPN server has not answered a handshake for ",
                            std::chrono::duration_cast<std::chrono::seconds>(
                                deps_.clock->Now() - *h.handshake_pending_since)
                                .count(),
                            " s");
    return;
  }
  status_.reason.clear();
  bool fresh = h.last_handshake && deps_.clock->WallNow() - *h.last_handshake < kHandshakeFresh;
  if (fresh) {
    stale_tx_bytes_.reset();
    status_.state = GatewayState::kConnected;
    return;
  }
  // WireGuard makes no handshake while nothing is sent: a stale handshake with no traffic sent
  // since it went stale is an idle tunnel, not a lost one. Traffic without a new handshake is.
  if (status_.state == GatewayState::kConnected && !stale_tx_bytes_) stale_tx_bytes_ = h.tx_bytes;
  bool idle = stale_tx_bytes_ && h.tx_bytes == *stale_tx_bytes_;
  status_.state = idle ? GatewayState::kConnected : GatewayState::kConnecting;
  if (!idle) stale_tx_bytes_.reset();
}

void Gateway::Stop(const std::string& reason) {
  TearDown();
  if (Status s = ApplyLockdown({}, 0); !s.ok()) LogError("firewall: " + s.error().message());
  Block(reason);
}

Status Gateway::Unblock() {
  TearDown();
  Status result = Ok();
  if (deps_.firewall) {
    if (Status s = deps_.firewall->RemoveAll(); !s.ok()) result = s;
  } else {
    if (Status s = RemoveWgateRules(*deps_.net); !s.ok() && result.ok()) result = s;
  }
  // The blackholes go first: a restored default route would collide with theirs.
  if (Status s = RestoreFallback(*deps_.net, deps_.fallback); !s.ok() && result.ok()) result = s;
  fallback_installed_ = false;
  if (Status s = deps_.resolv->Restore(); !s.ok() && result.ok()) result = s;
  status_.state = GatewayState::kBlocked;
  status_.firewall = "none (unblocked: traffic is NOT protected)";
  status_.rules_verified = false;
  status_.reason = "unblocked by request";
  LogWarn("unblocked: wgate's rules are removed; traffic now leaves without the tunnel");
  return result;
}

}  // namespace wgate::daemon
