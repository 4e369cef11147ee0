#include "cli/summary.h"

#include <sstream>

#include "base/strings.h"

namespace wgate::cli {

namespace {

template <typename T, typename F>
std::string JoinMapped(const std::vector<T>& items, F to_string) {
  std::string out;
  for (const T& item : items) out += (out.empty() ? "" : ", ") + to_string(item);
  return out;
}

std::string Prefixes(const std::vector<IpPrefix>& v) {
  return JoinMapped(v, [](const IpPrefix& p) { return p.ToString(); });
}

std::string Hooks(const config::InterfaceConfig& ifc) {
  std::string out;
  auto add = [&](const char* name, size_t n) {
    if (n) out += StrCat(out.empty() ? "" : ", ", name, " x", n);
  };
  add("PreUp", ifc.pre_up.size());
  add("PostUp", ifc.post_up.size());
  add("PreDown", ifc.pre_down.size());
  add("PostDown", ifc.post_down.size());
  return out;
}

}  // namespace

std::string FormatSummary(const config::WgConfig& c, const std::string& interface_name) {
  const config::InterfaceConfig& ifc = c.interface;
  std::ostringstream o;
  o << "interface: " << (interface_name.empty() ? "(name from WGATE_INTERFACE)" : interface_name)
    << "\n";
  o << "  public key: " << ifc.private_key.DerivePublic().ToBase64() << "\n";
  o << "  private key: (hidden)\n";
  o << "  listening port: " << (ifc.listen_port ? StrCat(*ifc.listen_port) : "random") << "\n";
  o << "  fwmark: "
    << (ifc.fwmark ? StrCat("0x", std::hex, ifc.fwmark) : "off (wgate picks its own)") << "\n";
  o << "  address: " << (ifc.addresses.empty() ? "none" : Prefixes(ifc.addresses)) << "\n";
  std::string dns = JoinMapped(ifc.dns_servers, [](const IpAddress& a) { return a.ToString(); });
  o << "  dns: " << (dns.empty() ? "none (set WGATE_DNS, or name resolution will fail)" : dns)
    << "\n";
  if (!ifc.dns_search.empty()) {
    o << "  dns search: " << JoinMapped(ifc.dns_search, [](const std::string& s) { return s; })
      << "\n";
  }
  o << "  mtu: " << (ifc.mtu ? StrCat(*ifc.mtu) : "auto (uplink MTU - 80)") << "\n";
  o << "  table: " << ifc.table.ToString() << "\n";
  std::string hooks = Hooks(ifc);
  if (!hooks.empty())
    o << "  hooks: " << hooks << " (run by `wgate run`; they never decide the kill switch)\n";
  for (const config::PeerConfig& p : c.peers) {
    o << "\npeer: " << p.public_key.ToBase64() << "\n";
    o << "  endpoint: "
      << (p.endpoint ? p.endpoint->ToString() : "none (waits for the peer to connect)");
    if (p.endpoint && !p.endpoint->ip) o << " (resolved at start)";
    o << "\n";
    o << "  allowed ips: " << (p.allowed_ips.empty() ? "none" : Prefixes(p.allowed_ips)) << "\n";
    if (p.preshared_key) o << "  preshared key: (hidden)\n";
    o << "  persistent keepalive: "
      << (p.persistent_keepalive ? StrCat("every ", p.persistent_keepalive, " seconds") : "off")
      << "\n";
  }
  return o.str();
}

nlohmann::json SummaryJson(const config::WgConfig& c, const std::string& interface_name) {
  using nlohmann::json;
  const config::InterfaceConfig& ifc = c.interface;
  auto prefixes = [](const std::vector<IpPrefix>& v) {
    json a = json::array();
    for (const auto& p : v) a.push_back(p.ToString());
    return a;
  };
  json dns = json::array();
  for (const auto& a : ifc.dns_servers) dns.push_back(a.ToString());
  json iface = {
      {"name", interface_name.empty() ? json(nullptr) : json(interface_name)},
      {"public_key", ifc.private_key.DerivePublic().ToBase64()},
      {"listen_port", ifc.listen_port ? json(*ifc.listen_port) : json(nullptr)},
      {"fwmark", ifc.fwmark},
      {"addresses", prefixes(ifc.addresses)},
      {"dns", dns},
      {"dns_search", ifc.dns_search},
      {"mtu", ifc.mtu ? json(*ifc.mtu) : json(nullptr)},
      {"table", ifc.table.ToString()},
      {"hooks",
       {{"pre_up", ifc.pre_up.size()},
        {"post_up", ifc.post_up.size()},
        {"pre_down", ifc.pre_down.size()},
        {"post_down", ifc.post_down.size()}}},
  };
  json peers = json::array();
  for (const config::PeerConfig& p : c.peers) {
    peers.push_back({
        {"public_key", p.public_key.ToBase64()},
        {"endpoint", p.endpoint ? json(p.endpoint->ToString()) : json(nullptr)},
        {"allowed_ips", prefixes(p.allowed_ips)},
        {"preshared_key", p.preshared_key.has_value()},
        {"persistent_keepalive", p.persistent_keepalive},
        {"line", p.line},
    });
  }
  return {{"interface", iface}, {"peers", peers}};
}

}  // namespace wgate::cli
