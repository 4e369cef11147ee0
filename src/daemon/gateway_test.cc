// The bring-up order and every failure path of the gateway, over fakes of nftables, netlink, the
// engine and the resolver. The same behaviours are tested for real in tests/leak_suite.
#include "daemon/gateway.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fake_clock.h"
#include "base/temp_dir.h"
#include "daemon/file_util.h"
#include "firewall/fake_nft_backend.h"
#include "netlink/fake_route_netlink.h"

namespace wgate::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class FakeEngine : public TunnelEngine {
 public:
  explicit FakeEngine(netlink::FakeRouteNetlink* net) : net_(net) {}
  Status Start(const std::string& name, const config::WgConfig& config, uint32_t fwmark,
               const SocketAddress& endpoint, uint32_t mtu, const EngineTuning& tuning) override {
    this->tuning = tuning;
    this->mtu = mtu;
    ++starts;
    if (fail_next) {
      fail_next = false;
      return Error("TUNSETIFF " + name + ": Operation not permitted");
    }
    name_ = name;
    this->fwmark = fwmark;
    this->endpoint = endpoint;
    listen_port = config.interface.listen_port;
    peers = config.peers.size();
    net_->AddLink(name, 1500, "tun");
    running = true;
    return Ok();
  }
  void Stop() override {
    // Closing the TUN fd removes the link, unless someone deleted it already.
    if (running && net_->GetLink(name_).ok()) net_->RemoveLinkFromOutside(name_);
    running = false;
  }
  TunnelHealth Health() override { return {running, handshake, pending_since, 100, tx}; }

  int starts = 0;
  bool fail_next = false;
  bool running = false;
  uint32_t fwmark = 0;
  uint32_t mtu = 0;
  EngineTuning tuning;
  SocketAddress endpoint;
  std::optional<uint16_t> listen_port;
  size_t peers = 0;
  std::optional<WallTime> handshake;
  std::optional<MonoTime> pending_since;  // an unanswered initiation
  uint64_t tx = 200;

 private:
  netlink::FakeRouteNetlink* net_;
  std::string name_;
};

class FakeResolver : public EndpointResolver {
 public:
  Result<std::vector<IpAddress>> Resolve(const std::string& host,
                                         const std::vector<IpAddress>& resolvers,
                                         uint32_t fwmark) override {
    calls.push_back(host);
    this->resolvers = resolvers;
    this->fwmark = fwmark;
    if (host == "vpn.example")
      return std::vector<IpAddress>{*IpAddress::Parse("fd00::9"), *IpAddress::Parse("203.0.113.9")};
    return Error("NXDOMAIN");
  }
  std::vector<std::string> calls;
  std::vector<IpAddress> resolvers;
  uint32_t fwmark = 0;
};

// Records what the gateway asked of its hooks; runs nothing.
class FakeHookRunner : public HookRunner {
 public:
  struct Call {
    std::string what;  // "start PreUp", "cancel PostUp"
    std::vector<std::string> commands;
    std::string interface;
    bool engine_running = false;  // when it was called
    std::string firewall;         // the gateway's firewall state when it was called
  };
  FakeHookRunner(const FakeEngine* engine, const Gateway* const* gw) : engine_(engine), gw_(gw) {}
  void Start(std::string_view stage, const std::vector<std::string>& commands,
             std::string_view interface) override {
    Record("start " + std::string(stage), commands, interface);
  }
  void Cancel(std::string_view stage) override { Record("cancel " + std::string(stage), {}, ""); }
  std::vector<HookFailure> TakeFailures() override { return std::exchange(failures, {}); }
  std::vector<std::string> What() const {
    std::vector<std::string> out;
    for (const Call& c : calls) out.push_back(c.what);
    return out;
  }

  std::vector<Call> calls;
  std::vector<HookFailure> failures;  // what the next TakeFailures() returns

 private:
  void Record(std::string what, const std::vector<std::string>& commands,
              std::string_view interface) {
    calls.push_back({std::move(what), commands, std::string(interface), engine_->running,
                     *gw_ ? (*gw_)->status().firewall : ""});
  }
  const FakeEngine* engine_;
  const Gateway* const* gw_;
};

constexpr char kPriv[] = "UCIkeUOWrC4VKeVnMYc4cPeagtd2DEdDeiqCryhfKlQ=";
constexpr char kServer[] = "SpDEvPTe2EA3QkGy+Hxtiv20Pr3OmOrLLkv4i+p50SU=";

std::string Config(const std::string& extra_interface = "",
                   const std::string& endpoint = "198.51.100.1:51820") {
  return std::string("[Interface]\nPrivateKey = ") + kPriv +
         "\nAddress = 10.64.0.2/32\nDNS = 10.64.0.1\n" + extra_interface +
         "\n[Peer]\nPublicKey = " + kServer + "\nAllowedIPs = 0.0.0.0/0\nEndpoint = " + endpoint +
         "\n";
}

class GatewayTest : public ::testing::Test {
 protected:
  GatewayTest() : engine_(&net_), fw_(nft_), hooks_(&engine_, &made_) {
    ipv6_disabled = false;
    net_.AddLink("eth0", 1500, "veth");
    (void)net_.SetLinkUp("eth0", true);
    (void)net_.AddAddress("eth0", *IpPrefix::Parse("192.0.2.2/24"));
    netlink::Route def;
    def.dst = *IpPrefix::Parse("0.0.0.0/0");
    def.dev = "eth0";
    def.gateway = IpAddress::Parse("192.0.2.1");
    (void)net_.AddRoute(def);
    resolv_path_ = dir_.Write("resolv.conf", "nameserver 127.0.0.11\n", 0644);
    resolv_ = std::make_unique<ResolvConf>(resolv_path_, dir_.path() + "/resolv.conf.orig");
    net_.ClearOperations();
    kernel_rules_ = net_.rules().size();
  }

  std::unique_ptr<Gateway> Make(bool with_firewall = true) {
    GatewayDeps deps{
        with_firewall ? &fw_ : nullptr,       &net_, &engine_, resolv_.get(), &resolver_, &clock_,
        hook_runner_ ? hook_runner_ : &hooks_};
    deps.fallback.set_ipv6_disabled = [](bool disabled) {  // never the host's /proc/sys
      ipv6_disabled = disabled;
      return true;
    };
    // As `wgate run` does behind the lockdown: the file as it is then becomes the backup.
    if (record_origin_)
      deps.establish_resolv_origin = [this] { (void)resolv_->SetBackup(resolv_->ReadCurrent()); };
    deps.fallback.ipv6_disabled = []() -> std::optional<bool> { return ipv6_disabled; };
    deps.fallback.record_path = FallbackRecord();  // never the host's /run/wgate
    auto gw = std::make_unique<Gateway>(deps);
    made_ = gw.get();
    return gw;
  }
  static inline bool ipv6_disabled = false;
  std::string FallbackRecord() const { return dir_.path() + "/fallback.json"; }
  std::string WriteConfig(const std::string& text, const std::string& name = "wg0.conf") {
    return dir_.Write(name, text, 0600);
  }
  const std::string& LastScript() { return nft_.scripts().back(); }
  bool HasRule(const std::string& text) {
    for (const netlink::Rule& r : net_.rules()) {
      if (r.ToString() == text) return true;
    }
    return false;
  }

  TempDir dir_;
  netlink::FakeRouteNetlink net_;
  FakeEngine engine_;
  firewall::FakeNftBackend nft_;
  firewall::Firewall fw_;
  FakeResolver resolver_;
  FakeClock clock_;
  FakeHookRunner hooks_;
  HookRunner* hook_runner_ = nullptr;  // a test's own runner instead of hooks_
  const Gateway* made_ = nullptr;      // the last Make()'s
  std::string resolv_path_;
  std::unique_ptr<ResolvConf> resolv_;
  bool record_origin_ = true;
  size_t kernel_rules_ = 0;
};

TEST_F(GatewayTest, LockdownComesFirstAndNeedsNoInput) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  ASSERT_EQ(nft_.scripts().size(), 1u);
  EXPECT_THAT(nft_.scripts()[0], HasSubstr("wgate kill switch (lockdown)"));
  EXPECT_THAT(nft_.scripts()[0], HasSubstr("127.0.0.11"));
  EXPECT_EQ(gw.status().firewall, "lockdown");
  EXPECT_EQ(engine_.starts, 0);
}

TEST_F(GatewayTest, StaleRulesOfAKilledRunAreRemovedAtStart) {
  {
    auto first = Make();
    ASSERT_TRUE(first->Lockdown().ok());
    first->Load(WriteConfig(Config()), {});
    ASSERT_EQ(first->status().state, GatewayState::kConnecting);
    // SIGKILL: no teardown; the engine's TUN closes with the process.
    engine_.running = false;
    net_.RemoveLinkFromOutside("wg0");
  }
  EXPECT_GT(net_.rules().size(), kernel_rules_);
  auto second = Make();
  ASSERT_TRUE(second->Lockdown().ok());
  EXPECT_EQ(net_.rules().size(), kernel_rules_);
  second->Load(WriteConfig(Config()), {});
  EXPECT_EQ(second->status().state, GatewayState::kConnecting) << second->status().reason;
}

TEST_F(GatewayTest, MalformedConfigStaysBlockedWithTheReason) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  std::string path = WriteConfig("[Interface]\nPrivateKey = " + std::string(kPriv) + "\nAddress\n");
  gw.Load(path, {});
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_EQ(gw.status().reason, path + ":3: \"Address\" has no value (expected \"Address = ...\")");
  EXPECT_FALSE(gw.should_retry()) << "a config error waits for the file to change";
  EXPECT_EQ(engine_.starts, 0);
  EXPECT_THAT(LastScript(), HasSubstr("(lockdown)"));
  EXPECT_THAT(LastScript(), Not(HasSubstr("meta mark")));
}

TEST_F(GatewayTest, MissingConfigAndBadSettingsBlock) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(dir_.path() + "/absent.conf", {});
  EXPECT_EQ(gw.status().reason, dir_.path() + "/absent.conf: no such file");
  gw.Load(WriteConfig(Config()), {{"WGATE_LAN_SUBNETS", "10.0.0.0/33"}});
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_EQ(
      gw.status().reason,
      "WGATE_LAN_SUBNETS: \"10.0.0.0/33\" is not a CIDR: prefix length 33 is out of range 0-32");
  EXPECT_EQ(engine_.starts, 0);
}

config::Environment EnvForm() {
  return {{"WIREGUARD_PRIVATE_KEY", kPriv},
          {"WIREGUARD_ADDRESSES", "10.64.0.2/32"},
          {"WIREGUARD_PUBLIC_KEY", kServer},
          {"VPN_ENDPOINT_IP", "198.51.100.1"},
          {"WGATE_DNS", "10.64.0.1"}};
}

TEST_F(GatewayTest, EnvironmentFormConnectsWithoutAFile) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(std::nullopt, EnvForm());
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  EXPECT_EQ(gw.status().interface, "wg0");
  EXPECT_EQ(gw.status().config_path, "environment");
  EXPECT_EQ(gw.status().endpoint, "198.51.100.1:51820");
  EXPECT_EQ(engine_.endpoint.ToString(), "198.51.100.1:51820");
  EXPECT_EQ(engine_.peers, 1u);
  EXPECT_THAT(LastScript(), HasSubstr("ip daddr 198.51.100.1 udp sport "));
  EXPECT_THAT(*ReadFile(resolv_path_), HasSubstr("nameserver 10.64.0.1\n"));

  config::Environment named = EnvForm();
  named["WGATE_INTERFACE"] = "tun7";
  gw.Load(std::nullopt, named);
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  EXPECT_EQ(gw.status().interface, "tun7");
}

TEST_F(GatewayTest, EnvironmentFormErrorsBlockNamingTheVariableNeverTheKey) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  config::Environment env = EnvForm();
  env["WIREGUARD_ADDRESSES"] = "10.0.0.1/33";
  env["WIREGUARD_PUBLIC_KEY"] = std::string(kPriv).substr(0, 40);
  gw.Load(std::nullopt, env);
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_EQ(gw.status().reason,
            "WIREGUARD_ADDRESSES: \"10.0.0.1/33\" is not a CIDR: prefix length 33 is out of range "
            "0-32 (and 1 more)");
  EXPECT_EQ(engine_.starts, 0);
  EXPECT_THAT(LastScript(), HasSubstr("(lockdown)"));

  env = EnvForm();
  env.erase("WIREGUARD_PRIVATE_KEY");
  env["WIREGUARD_PRIVATE_KEY_SECRETFILE"] = dir_.path() + "/absent";
  gw.Load(std::nullopt, env);
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_EQ(gw.status().reason, "WIREGUARD_PRIVATE_KEY_SECRETFILE: \"" + dir_.path() +
                                    "/absent\": No such file or directory");

  // The real secret reader: the same config from a Docker secret connects.
  env["WIREGUARD_PRIVATE_KEY_SECRETFILE"] = dir_.Write("wg_key", std::string(kPriv) + "\n", 0400);
  gw.Load(std::nullopt, env);
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  EXPECT_THAT(gw.status().reason, Not(HasSubstr(std::string(kPriv).substr(0, 10))));
}

TEST_F(GatewayTest, AFileThatWinsSaysTheWireguardVariablesAreIgnored) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  std::string path = WriteConfig(Config());
  gw.Load(path, EnvForm());
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  EXPECT_EQ(gw.status().config_path, path);
  EXPECT_THAT(gw.status().warnings,
              testing::Contains("VPN_ENDPOINT_IP, WIREGUARD_ADDRESSES, WIREGUARD_PRIVATE_KEY, "
                                "WIREGUARD_PUBLIC_KEY are ignored: --config takes precedence over "
                                "a config from the environment (reading " +
                                path + ")"));
}

// The engine's hole is its own port: the config's ListenPort when there is one.
TEST_F(GatewayTest, ListenPortIsTheEnginesHole) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config("ListenPort = 51999\n")), {});
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  EXPECT_EQ(engine_.listen_port, std::optional<uint16_t>(51999));
  EXPECT_THAT(LastScript(), HasSubstr("iifname \"lo\" udp dport 51999 drop"));
  EXPECT_THAT(LastScript(), HasSubstr("udp sport 51820 udp dport 51999 accept"));
  EXPECT_THAT(LastScript(), HasSubstr("udp sport 51999 udp dport 51820 accept"));
}

TEST_F(GatewayTest, ValidConfigBringsTheTunnelUpInOrder) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config()), {});
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  EXPECT_EQ(gw.status().interface, "wg0");
  EXPECT_EQ(gw.status().endpoint, "198.51.100.1:51820");
  // The connected ruleset: the engine's marked UDP between its own port (no ListenPort: one chosen
  // before the engine starts, and given to it) and the endpoint, everything else via wg0.
  ASSERT_TRUE(engine_.listen_port.has_value());
  ASSERT_NE(*engine_.listen_port, 0);
  const std::string port = std::to_string(*engine_.listen_port);
  EXPECT_THAT(LastScript(), HasSubstr("oifname \"eth0\" meta mark 0x0000ca6c ip daddr "
                                      "198.51.100.1 udp sport " +
                                      port + " udp dport 51820 accept"));
  EXPECT_THAT(LastScript(), HasSubstr("iifname \"eth0\" ip saddr 198.51.100.1 udp sport 51820 "
                                      "udp dport " +
                                      port + " accept"));
  EXPECT_THAT(LastScript(), HasSubstr("oifname \"wg0\""));
  EXPECT_EQ(engine_.fwmark, kDefaultFwMark);
  EXPECT_EQ(engine_.endpoint.ToString(), "198.51.100.1:51820");
  // Address, MTU from the uplink (1500 - 80), policy routing as wg-quick.
  ASSERT_TRUE(net_.GetLink("wg0").ok());
  EXPECT_EQ(net_.GetLink("wg0")->mtu, 1420u);
  EXPECT_EQ(engine_.mtu, 1420u);
  EXPECT_TRUE(net_.GetLink("wg0")->up());
  EXPECT_EQ(net_.ListAddresses("wg0")->size(), 1u);
  EXPECT_TRUE(HasRule("from all lookup main suppress_prefixlength 0 pref 32002"))
      << net_.rules().size();
  EXPECT_TRUE(HasRule("not from all fwmark 0xca6c lookup 51820 pref 32003"));
  bool tunnel_default = false, endpoint_route = false;
  for (const netlink::Route& r : net_.routes()) {
    tunnel_default |= r.is_default() && r.dev == "wg0" && r.table == 51820;
    endpoint_route |= r.dst.ToString() == "198.51.100.1/32" && r.dev == "eth0";
  }
  EXPECT_TRUE(tunnel_default);
  // No host route to the endpoint: the engine's marked packets take main's default anyway, and
  // consumers may reach the server's address (other services on it) through the tunnel.
  EXPECT_FALSE(endpoint_route);
  EXPECT_EQ(*ReadFile(resolv_path_),
            "# Written by wgate: DNS goes through the WireGuard tunnel.\n"
            "# `wgate down --unblock` restores the original.\nnameserver 10.64.0.1\n");
  EXPECT_TRUE(gw.status().rules_verified);
}

TEST_F(GatewayTest, ConfigFwMarkIsUsedEverywhereNotTheDefault) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config("FwMark = 0x1234\n")), {});
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  EXPECT_EQ(engine_.fwmark, 0x1234u);
  EXPECT_THAT(LastScript(), HasSubstr("meta mark 0x00001234"));
  EXPECT_THAT(LastScript(), Not(HasSubstr("0x0000ca6c")));
  EXPECT_TRUE(HasRule("not from all fwmark 0x1234 lookup 4660 pref 32003"));
}

TEST_F(GatewayTest, HostnameEndpointResolvedThroughTheMarkedHoleOnly) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  size_t before = nft_.scripts().size();
  gw.Load(WriteConfig(Config("", "vpn.example:51820")), {});
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  ASSERT_EQ(resolver_.calls.size(), 1u);
  ASSERT_EQ(resolver_.resolvers.size(), 1u);
  EXPECT_EQ(resolver_.resolvers[0].ToString(), "127.0.0.11");
  EXPECT_EQ(resolver_.fwmark, kDefaultFwMark);
  // Hole opened (lockdown + marked DNS), closed (plain lockdown), then connected.
  ASSERT_EQ(nft_.scripts().size(), before + 3);
  EXPECT_THAT(nft_.scripts()[before], HasSubstr("meta mark 0x0000ca6c ip daddr 127.0.0.11"));
  EXPECT_THAT(nft_.scripts()[before + 1], Not(HasSubstr("meta mark")));
  EXPECT_EQ(engine_.endpoint.ToString(),
            "203.0.113.9:51820");  // v4 preferred: the uplink routes v4
}

TEST_F(GatewayTest, UnresolvableEndpointBlocks) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config("", "nowhere.example:51820")), {});
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_EQ(gw.status().reason,
            "cannot resolve Endpoint \"nowhere.example:51820\": NXDOMAIN (retrying)");
  EXPECT_TRUE(gw.should_retry());
  EXPECT_THAT(LastScript(), Not(HasSubstr("meta mark")));
}

TEST_F(GatewayTest, TheResolversAreTheOnesSnapshottedAtLockdown) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  // A consumer shares the file and writes its own resolver; the snapshot is in memory, so not
  // even the backup is read again.
  ASSERT_TRUE(WriteFileInPlace(resolv_path_, "nameserver 203.0.113.66\n").ok());
  ASSERT_TRUE(
      WriteFileInPlace(dir_.path() + "/resolv.conf.orig", "nameserver 203.0.113.66\n").ok());
  gw.Load(WriteConfig(Config("", "vpn.example:51820")), {});
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  ASSERT_EQ(resolver_.resolvers.size(), 1u);
  EXPECT_EQ(resolver_.resolvers[0].ToString(), "127.0.0.11");
  for (const std::string& script : nft_.scripts()) {
    EXPECT_THAT(script, Not(HasSubstr("203.0.113.66")));
  }
}

TEST_F(GatewayTest, NoResolverRecordedAtLockdownBlocksAndNeverAsksTheCurrentFile) {
  record_origin_ = false;  // e.g. the file was an earlier wgate's rewrite with no record left
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  ASSERT_TRUE(WriteFileInPlace(resolv_path_, "nameserver 203.0.113.66\n").ok());
  gw.Load(WriteConfig(Config("", "vpn.example:51820")), {});
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_EQ(gw.status().reason,
            "Endpoint \"vpn.example:51820\" is a host name and no resolver was recorded at "
            "lockdown (the namespace's original /etc/resolv.conf named no nameserver, or was an "
            "earlier wgate's rewrite with no record of the original left); write the server's "
            "IP address in Endpoint (retrying)");
  EXPECT_TRUE(resolver_.calls.empty());
  EXPECT_THAT(LastScript(), Not(HasSubstr("meta mark")));
  // A numeric Endpoint needs no resolver.
  gw.Load(WriteConfig(Config("", "198.51.100.1:51820")), {});
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
}

TEST_F(GatewayTest, AReloadWithTheSameEndpointTextReusesTheAddress) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  std::string path = WriteConfig(Config("", "vpn.example:51820"));
  gw.Load(path, {});
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  ASSERT_EQ(resolver_.calls.size(), 1u);
  size_t scripts = nft_.scripts().size();
  clock_.Advance(std::chrono::hours(1));
  gw.Load(path, {});  // SIGHUP, same text
  WriteConfig(Config("MTU = 1380\n", "vpn.example:51820"));
  gw.Load(path, {});  // another config, same Endpoint
  EXPECT_EQ(resolver_.calls.size(), 1u);
  EXPECT_EQ(engine_.endpoint.ToString(), "203.0.113.9:51820");
  EXPECT_EQ(engine_.mtu, 1380u);
  for (size_t i = scripts; i < nft_.scripts().size(); ++i) {
    EXPECT_THAT(nft_.scripts()[i], Not(HasSubstr("meta mark 0x0000ca6c ip daddr 127.0.0.11")))
        << "no resolver hole without a lookup";
  }
  // The user changes the text: looked up again.
  WriteConfig(Config("", "vpn.example:51821"));
  gw.Load(path, {});
  EXPECT_EQ(resolver_.calls.size(), 2u);
  EXPECT_EQ(engine_.endpoint.ToString(), "203.0.113.9:51821");
}

TEST_F(GatewayTest, FailedLookupsBackOffBeforeTheNextQuery) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  std::string path = WriteConfig(Config("", "nowhere.example:51820"));
  gw.Load(path, {});
  ASSERT_EQ(resolver_.calls.size(), 1u);
  gw.Load(path, {});  // an immediate retry asks nobody
  EXPECT_EQ(resolver_.calls.size(), 1u);
  EXPECT_EQ(gw.status().reason,
            "cannot resolve Endpoint \"nowhere.example:51820\": NXDOMAIN; next lookup in 1 s "
            "(retrying)");
  EXPECT_TRUE(gw.should_retry());
  EXPECT_THAT(LastScript(), Not(HasSubstr("meta mark")));
  clock_.Advance(std::chrono::seconds(1));
  gw.Load(path, {});
  EXPECT_EQ(resolver_.calls.size(), 2u);
  clock_.Advance(std::chrono::milliseconds(1700));  // the second wait is 1.8 s to 2 s
  gw.Load(path, {});
  EXPECT_EQ(resolver_.calls.size(), 2u);
  clock_.Advance(std::chrono::milliseconds(300));
  gw.Load(path, {});
  EXPECT_EQ(resolver_.calls.size(), 3u);
  // A corrected name is looked up at once.
  WriteConfig(Config("", "vpn.example:51820"));
  gw.Load(path, {});
  EXPECT_EQ(resolver_.calls.size(), 4u);
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
}

TEST_F(GatewayTest, EngineFailureRollsBackToLockdown) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  engine_.fail_next = true;
  gw.Load(WriteConfig(Config()), {});
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_EQ(gw.status().reason,
            "bring-up failed: TUNSETIFF wg0: Operation not permitted (retrying)");
  EXPECT_TRUE(gw.should_retry());
  EXPECT_THAT(LastScript(), HasSubstr("(lockdown)"));
  EXPECT_EQ(net_.rules().size(), kernel_rules_) << "only the kernel's default rules remain";
}

TEST_F(GatewayTest, RoutingFailureRollsBack) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  net_.FailNext("RTM_NEWRULE", EEXIST);
  gw.Load(WriteConfig(Config()), {});
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_THAT(gw.status().reason, HasSubstr("RTM_NEWRULE"));
  EXPECT_FALSE(engine_.running);
  EXPECT_THAT(LastScript(), HasSubstr("(lockdown)"));
}

TEST_F(GatewayTest, TwoServersOrNoEndpointAreRefusedClearly) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  std::string path =
      WriteConfig(Config() +
                  "\n[Peer]\nPublicKey = QZ1KQ/K7bHzW0oPgeq7sQcwhkb+b0QVGk74Ofoi3JVw=\n"
                  "AllowedIPs = 198.51.100.0/24\nEndpoint = 198.51.100.2:51820\n");
  gw.Load(path, {});
  EXPECT_EQ(
      gw.status().reason,
      path +
          ":11: a second [Peer] with an Endpoint; wgate run connects to one VPN server per config");
  path = WriteConfig("[Interface]\nPrivateKey = " + std::string(kPriv) +
                     "\n[Peer]\nPublicKey = " + kServer + "\nAllowedIPs = 0.0.0.0/0\n");
  gw.Load(path, {});
  EXPECT_EQ(gw.status().reason,
            path + ":3: [Peer] has no Endpoint: wgate needs to know where the VPN server is");
}

TEST_F(GatewayTest, LanSubnetHoldingTheTunnelDnsIsRefused) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config()), {{"WGATE_LAN_SUBNETS", "10.0.0.0/8"}});
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_EQ(gw.status().reason,
            "WGATE_LAN_SUBNETS: 10.0.0.0/8 contains the tunnel's DNS server 10.64.0.1: its queries "
            "would leave "
            "outside the tunnel; narrow the subnet");
  EXPECT_EQ(engine_.starts, 0);
}

TEST_F(GatewayTest, ATunnelNameThatIsSomeoneElsesInterfaceIsRefused) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  net_.AddLink("eth1", 1500, "veth");  // a second Docker network, say
  gw.Load(WriteConfig(Config()), {{"WGATE_INTERFACE", "eth1"}});
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_THAT(gw.status().reason,
              HasSubstr("interface eth1 already exists in this namespace and is not wgate's"));
  EXPECT_THAT(LastScript(), Not(HasSubstr("oifname \"eth1\"")));
  EXPECT_EQ(engine_.starts, 0);
}

TEST_F(GatewayTest, TamperedRulesAreReappliedAndReported) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config()), {});
  size_t before = nft_.scripts().size();
  nft_.table().reset();  // `nft delete table inet wgate` from outside
  gw.Tick();
  EXPECT_EQ(nft_.scripts().size(), before + 1);
  EXPECT_EQ(gw.status().rules_reapplied, 1u);
  EXPECT_TRUE(gw.status().rules_verified);
  gw.Tick();
  EXPECT_EQ(gw.status().rules_reapplied, 1u);
}

TEST_F(GatewayTest, TunnelInterfaceDeletedFromOutsideComesBack) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config()), {});
  ASSERT_EQ(engine_.starts, 1);
  net_.RemoveLinkFromOutside("wg0");
  gw.Tick();
  EXPECT_EQ(engine_.starts, 2);
  EXPECT_TRUE(net_.GetLink("wg0").ok());
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting);
}

// The server dies under traffic: its last handshake is still fresh for minutes, but WireGuard's
// next initiation goes unanswered, and that is what health follows.
TEST_F(GatewayTest, AnUnansweredHandshakeMakesItConnectingLongBeforeTheLastOneAgesOut) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config()), {});
  engine_.handshake = clock_.WallNow();
  gw.Tick();
  ASSERT_TRUE(gw.status().healthy());
  clock_.Advance(std::chrono::seconds(15));  // data sent without reply: a new initiation
  engine_.pending_since = clock_.Now();
  clock_.Advance(kHandshakeUnanswered - std::chrono::seconds(1));
  gw.Tick();
  EXPECT_TRUE(gw.status().healthy()) << "a lost initiation and its retry are normal";
  clock_.Advance(std::chrono::seconds(1));
  gw.Tick();
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting);
  EXPECT_FALSE(gw.status().healthy());
  EXPECT_EQ(gw.status().reason, "the VPN server has not answered a handshake for 8 s");
  engine_.pending_since.reset();  // the server is back: the handshake completes
  engine_.handshake = clock_.WallNow();
  gw.Tick();
  EXPECT_TRUE(gw.status().healthy());
  EXPECT_EQ(gw.status().reason, "");
}

TEST_F(GatewayTest, HandshakeMakesItConnected) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config()), {});
  gw.Tick();
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting);
  engine_.handshake = clock_.WallNow();
  gw.Tick();
  EXPECT_EQ(gw.status().state, GatewayState::kConnected);
  EXPECT_TRUE(gw.status().healthy());
  // No handshake for 181 s and nothing sent: idle, still connected (a health check must not
  // restart a working gateway that merely has no traffic).
  clock_.Advance(std::chrono::seconds(181));
  gw.Tick();
  EXPECT_EQ(gw.status().state, GatewayState::kConnected);
  EXPECT_TRUE(gw.status().healthy());
  // Traffic sent without a new handshake: the server is not answering.
  engine_.tx += 148;
  gw.Tick();
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting);
  gw.Tick();
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting) << "stays so until a handshake";
  engine_.handshake = clock_.WallNow();
  gw.Tick();
  EXPECT_EQ(gw.status().state, GatewayState::kConnected);
}

TEST_F(GatewayTest, NeverConnectedIsNotIdle) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config()), {});
  clock_.Advance(std::chrono::seconds(300));
  gw.Tick();
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting);
}

TEST_F(GatewayTest, InvalidReloadKeepsTheWorkingTunnel) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  std::string path = WriteConfig(Config());
  gw.Load(path, {});
  WriteConfig("[Interface]\nPrivateKey = ");  // an editor's half-written file
  gw.Load(path, {});
  EXPECT_EQ(gw.status().state, GatewayState::kConnecting);
  EXPECT_TRUE(engine_.running);
  ASSERT_FALSE(gw.status().warnings.empty());
  EXPECT_THAT(gw.status().warnings.back(),
              HasSubstr("config reload failed, still running the previous config"));
  // A valid new config replaces it.
  WriteConfig(Config("", "198.51.100.7:51820"));
  gw.Load(path, {});
  EXPECT_EQ(engine_.starts, 2);
  EXPECT_EQ(gw.status().endpoint, "198.51.100.7:51820");
  EXPECT_THAT(LastScript(), HasSubstr("ip daddr 198.51.100.7"));
}

TEST_F(GatewayTest, StopLeavesLockdownAndUnblockOpens) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config()), {});
  gw.Stop("stopped by SIGTERM");
  EXPECT_FALSE(engine_.running);
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_EQ(gw.status().reason, "stopped by SIGTERM");
  EXPECT_THAT(LastScript(), HasSubstr("(lockdown)"));
  EXPECT_EQ(net_.rules().size(), kernel_rules_);
  ASSERT_TRUE(gw.Unblock().ok());
  EXPECT_FALSE(nft_.table().has_value());
  EXPECT_EQ(*ReadFile(resolv_path_), "nameserver 127.0.0.11\n");
}

TEST_F(GatewayTest, WithoutNftablesFallsBackToBlackholeRoutes) {
  auto gw_ptr = Make(/*with_firewall=*/false);
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  EXPECT_THAT(gw.status().firewall, HasSubstr("blackhole fallback"));
  bool v4 = false, v6 = false;
  for (const netlink::Route& r : net_.routes()) {
    if (r.type == netlink::RouteType::kBlackhole && r.is_default() &&
        r.table == netlink::kTableMain) {
      (r.dst.addr.is_v4() ? v4 : v6) = true;
    }
  }
  EXPECT_TRUE(v4 && v6);
  EXPECT_TRUE(ipv6_disabled) << "blackhole routes cannot stop link-local IPv6";
  EXPECT_FALSE(gw.status().healthy());
  // A blackhole default ends the kernel's rule walk, so a tunnel could not carry traffic: it is
  // not started, and the status says why.
  gw.Load(WriteConfig(Config()), {});
  EXPECT_EQ(gw.status().state, GatewayState::kBlocked);
  EXPECT_THAT(gw.status().reason, HasSubstr("nftables is unavailable"));
  EXPECT_EQ(engine_.starts, 0);
  ASSERT_TRUE(gw.Unblock().ok());
  for (const netlink::Route& r : net_.routes())
    EXPECT_NE(r.type, netlink::RouteType::kBlackhole) << r.ToString();
  EXPECT_FALSE(ipv6_disabled);
}

TEST_F(GatewayTest, TheFallbackShutsTheUplinkAndUnblockBringsItBack) {
  ipv6_disabled = false;
  netlink::Route lan;  // a route through the uplink in another table
  lan.dst = *IpPrefix::Parse("198.51.100.0/24");
  lan.dev = "eth0";
  lan.gateway = IpAddress::Parse("192.0.2.1");
  lan.table = 100;
  ASSERT_TRUE(net_.AddRoute(lan).ok());
  std::vector<std::string> before;
  for (const netlink::Route& r : net_.routes()) before.push_back(r.ToString());
  auto gw_ptr = Make(/*with_firewall=*/false);
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  // Broadcast and IP_UNICAST_IF traffic ignore routes: the link itself goes down.
  EXPECT_FALSE(net_.GetLink("eth0")->up());
  EXPECT_TRUE(net_.GetLink("lo")->up());
  EXPECT_TRUE(FileExists(FallbackRecord()));
  EXPECT_THAT(gw.status().rules_problem, HasSubstr("its links are down"));
  EXPECT_TRUE(ipv6_disabled);

  // Another NET_ADMIN process brings it up: the next tick takes it down again and says so.
  ASSERT_TRUE(net_.SetLinkUp("eth0", true).ok());
  gw.Tick();
  EXPECT_FALSE(net_.GetLink("eth0")->up());
  EXPECT_THAT(gw.status().rules_problem,
              HasSubstr("eth0 was brought up from outside and is down again"));
  EXPECT_EQ(gw.status().rules_reapplied, 1u);

  Status s = gw.Unblock();
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_TRUE(net_.GetLink("eth0")->up());
  std::vector<std::string> after;
  for (const netlink::Route& r : net_.routes()) after.push_back(r.ToString());
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  EXPECT_EQ(after, before) << "the default route and the table-100 route are back";
  EXPECT_FALSE(ipv6_disabled);
  EXPECT_FALSE(FileExists(FallbackRecord()));
  gw.Tick();
  EXPECT_TRUE(net_.GetLink("eth0")->up()) << "an unblocked gateway keeps nothing shut";
}

TEST_F(GatewayTest, IPv6OffBeforeTheFallbackStaysOffAfterTheUnblock) {
  ipv6_disabled = true;  // the container was started with IPv6 off
  auto gw_ptr = Make(/*with_firewall=*/false);
  ASSERT_TRUE(gw_ptr->Lockdown().ok());
  ASSERT_TRUE(gw_ptr->Unblock().ok());
  EXPECT_TRUE(ipv6_disabled);
  EXPECT_TRUE(net_.GetLink("eth0")->up());
}

TEST_F(GatewayTest, AGatewayWithAFirewallBringsBackWhatAKilledFallbackShut) {
  {
    auto killed = Make(/*with_firewall=*/false);
    ASSERT_TRUE(killed->Lockdown().ok());
  }  // SIGKILLed: the links stay down, the record stays
  ASSERT_FALSE(net_.GetLink("eth0")->up());
  auto gw_ptr = Make();
  ASSERT_TRUE(gw_ptr->Lockdown().ok());
  EXPECT_THAT(LastScript(), HasSubstr("(lockdown)"));
  EXPECT_TRUE(net_.GetLink("eth0")->up()) << "behind the lockdown the uplink may come up";
  EXPECT_EQ(net_.DefaultRoutes(IpAddress::Family::kV4)->size(), 1u);
  EXPECT_FALSE(FileExists(FallbackRecord()));
}

TEST_F(GatewayTest, PublishedPortsGetAReplyRuleFromTheUplinkAddress) {
  auto gw_ptr = Make();
  Gateway& gw = *gw_ptr;
  ASSERT_TRUE(gw.Lockdown().ok());
  gw.Load(WriteConfig(Config()),
          {{"WGATE_INPUT_PORTS", "8080"}, {"WGATE_LAN_SUBNETS", "198.51.100.128/25"}});
  ASSERT_EQ(gw.status().state, GatewayState::kConnecting) << gw.status().reason;
  EXPECT_TRUE(HasRule("from 192.0.2.2/32 lookup main pref 32001"));
  bool lan_route = false;
  for (const netlink::Route& r : net_.routes())
    lan_route |= r.dst.ToString() == "198.51.100.128/25" && r.dev == "eth0";
  EXPECT_TRUE(lan_route);
  EXPECT_THAT(LastScript(), HasSubstr("8080"));
}

std::string HookConfig() {
  return Config(
      "PreUp = echo pre %i\nPostUp = echo post %i\nPostUp = exit 3\nPreDown = echo "
      "down\nPostDown = echo gone\n");
}

TEST_F(GatewayTest, HooksStartBesideBringUpInWgQuicksOrder) {
  auto gw = Make();
  ASSERT_TRUE(gw->Lockdown().ok());
  gw->Load(WriteConfig(HookConfig()), {});
  ASSERT_EQ(gw->status().state, GatewayState::kConnecting) << gw->status().reason;
  // A teardown before the first bring-up has nothing to stop; then PreUp, then PostUp.
  EXPECT_EQ(hooks_.What(), (std::vector<std::string>{"start PreUp", "start PostUp"}));
  const FakeHookRunner::Call& pre = hooks_.calls[0];
  EXPECT_EQ(pre.commands, std::vector<std::string>{"echo pre %i"});
  EXPECT_EQ(pre.interface, "wg0");
  EXPECT_EQ(pre.firewall, "connected") << "PreUp runs behind the connected kill switch";
  EXPECT_FALSE(pre.engine_running) << "and is started before the interface";
  const FakeHookRunner::Call& post = hooks_.calls[1];
  EXPECT_EQ(post.commands, (std::vector<std::string>{"echo post %i", "exit 3"}));
  EXPECT_TRUE(post.engine_running);
  EXPECT_TRUE(net_.GetLink("wg0")->up()) << "PostUp starts once the interface is up";
}

TEST_F(GatewayTest, HookFailuresShowInTheWarningsWhenTheyHappen) {
  auto gw = Make();
  ASSERT_TRUE(gw->Lockdown().ok());
  gw->Load(WriteConfig(HookConfig()), {});
  EXPECT_THAT(gw->status().warnings, Not(testing::Contains(HasSubstr("hook"))));
  hooks_.failures.push_back({"PostUp", 2, "exited with status 3"});
  gw->CollectHookFailures();
  EXPECT_THAT(gw->status().warnings, testing::Contains("PostUp hook 2 exited with status 3"));
  EXPECT_EQ(gw->status().state, GatewayState::kConnecting) << "a hook never decides the state";
}

TEST_F(GatewayTest, TeardownStopsTheUpHooksAndQueuesTheDownHooks) {
  auto gw = Make();
  ASSERT_TRUE(gw->Lockdown().ok());
  gw->Load(WriteConfig(HookConfig()), {});
  hooks_.calls.clear();
  gw->Stop("stopped by SIGTERM");
  EXPECT_EQ(hooks_.What(), (std::vector<std::string>{"cancel PreUp", "cancel PostUp",
                                                     "start PreDown", "start PostDown"}));
  EXPECT_EQ(hooks_.calls[2].commands, std::vector<std::string>{"echo down"});
  EXPECT_EQ(hooks_.calls[3].commands, std::vector<std::string>{"echo gone"});
  EXPECT_FALSE(hooks_.calls[3].engine_running) << "PostDown after the interface is gone";
  EXPECT_EQ(gw->status().state, GatewayState::kBlocked);
}

TEST_F(GatewayTest, AFailedBringUpStopsItsPreUpAndRunsNoDownHooks) {
  auto gw = Make();
  ASSERT_TRUE(gw->Lockdown().ok());
  engine_.fail_next = true;
  gw->Load(WriteConfig(HookConfig()), {});
  EXPECT_EQ(gw->status().state, GatewayState::kBlocked);
  // As wg-quick's trap: the failed bring-up is undone, but it was never up to be taken down.
  EXPECT_EQ(hooks_.What(),
            (std::vector<std::string>{"start PreUp", "cancel PreUp", "cancel PostUp"}));
}

// With the real runner: a PostUp that takes seconds does not hold up the bring-up (it used to,
// for up to 60 s per command), and its failure reaches the status once it has happened.
TEST_F(GatewayTest, BringUpCompletesWhileAHookStillRuns) {
  TempDir hook_dir;
  std::string done = hook_dir.path() + "/done";
  ShellHookRunner runner;
  hook_runner_ = &runner;
  auto gw = Make();
  ASSERT_TRUE(gw->Lockdown().ok());
  auto start = std::chrono::steady_clock::now();
  gw->Load(WriteConfig(Config("PostUp = sleep 5; touch " + done + "\nPostUp = exit 7\n")), {});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(gw->status().state, GatewayState::kConnecting) << gw->status().reason;
  EXPECT_TRUE(engine_.running);
  EXPECT_FALSE(runner.idle()) << "the PostUp hook is still running";
  EXPECT_FALSE(ReadFile(done).ok());
  EXPECT_THAT(gw->status().warnings, Not(testing::Contains(HasSubstr("hook"))));
  runner.Finish();
  gw->CollectHookFailures();
  EXPECT_TRUE(ReadFile(done).ok());
  EXPECT_THAT(gw->status().warnings, testing::Contains("PostUp hook 2 exited with status 7"));
}

}  // namespace
}  // namespace wgate::daemon

namespace wgate::daemon {
namespace {

NetRawProtections FullProtections() {
  return NetRawProtections(firewall::OwnCgroup{"system.slice/docker-1.scope", 2}, "", true, "",
                           0x5ec12e7);
}

TEST_F(GatewayTest, NetRawProtectionsGoIntoTheLockdownAtOnceAndIntoTheConnectedRuleset) {
  auto gw = Make();
  ASSERT_TRUE(gw->Lockdown().ok());
  gw->UseNetRawProtections(FullProtections());
  EXPECT_THAT(LastScript(), HasSubstr("(lockdown)"));
  EXPECT_THAT(LastScript(), HasSubstr("type filter hook egress device \"eth0\""));
  gw->Load(WriteConfig(Config()), {});
  ASSERT_EQ(gw->status().state, GatewayState::kConnecting) << gw->status().reason;
  EXPECT_THAT(LastScript(), HasSubstr("(connected)"));
  EXPECT_THAT(LastScript(),
              HasSubstr("socket cgroupv2 level 2 \"system.slice/docker-1.scope\" ip daddr"));
  EXPECT_THAT(LastScript(), HasSubstr("meta mark 0x05ec12e7 accept"));
  EXPECT_THAT(
      gw->status().protections,
      testing::ElementsAre("engine socket cgroup: active (level 2 \"system.slice/docker-1.scope\")",
                           "uplink egress filter: active (on eth0)"));
}

TEST_F(GatewayTest, AKernelThatRefusesTheEgressFilterGetsTheRulesetWithoutIt) {
  auto gw = Make();
  ASSERT_TRUE(gw->Lockdown().ok());
  nft_.FailNextRun(Error("nft: Error: Could not process rule: Operation not supported", 95));
  gw->UseNetRawProtections(FullProtections());
  EXPECT_EQ(gw->status().firewall, "lockdown");
  EXPECT_TRUE(gw->status().rules_verified);
  EXPECT_THAT(LastScript(), Not(HasSubstr("netdev")));
  EXPECT_THAT(gw->status().protections,
              testing::Contains(testing::AllOf(
                  HasSubstr("uplink egress filter: unavailable (the kernel refused it on eth0: "),
                  HasSubstr("Operation not supported)"))));
}

TEST_F(GatewayTest, WithoutProtectionsStatusListsNoneAndTheScriptHasNoneOfThem) {
  auto gw = Make();
  ASSERT_TRUE(gw->Lockdown().ok());
  gw->Load(WriteConfig(Config()), {});
  EXPECT_THAT(LastScript(), Not(HasSubstr("cgroupv2")));
  EXPECT_THAT(LastScript(), Not(HasSubstr("netdev")));
  EXPECT_TRUE(gw->status().protections.empty());
}

}  // namespace
}  // namespace wgate::daemon
