#include "config/env_config.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "config/value_parsers.h"
#include "crypto/keys.h"

namespace wgate::config {

namespace {

constexpr char kPrivateKey[] = "WIREGUARD_PRIVATE_KEY";
constexpr char kAddresses[] = "WIREGUARD_ADDRESSES";
constexpr char kPublicKey[] = "WIREGUARD_PUBLIC_KEY";
constexpr char kPresharedKey[] = "WIREGUARD_PRESHARED_KEY";
constexpr char kEndpointIp[] = "WIREGUARD_ENDPOINT_IP";
constexpr char kEndpointIpAlias[] = "VPN_ENDPOINT_IP";
constexpr char kEndpointPort[] = "VPN_ENDPOINT_PORT";
constexpr char kEndpointPortAlias[] = "WIREGUARD_ENDPOINT_PORT";
constexpr char kAllowedIps[] = "WIREGUARD_ALLOWED_IPS";
constexpr char kMtu[] = "WIREGUARD_MTU";
constexpr char kKeepalive[] = "WIREGUARD_PERSISTENT_KEEPALIVE_INTERVAL";
constexpr std::string_view kSecretFile = "_SECRETFILE";

constexpr uint16_t kDefaultPort = 51820;
constexpr std::string_view kDefaultAllowedIps = "0.0.0.0/0,::/0";

// Every name of the environment form, for the unknown-variable warning.
const std::vector<std::string>& KnownNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names = {kEndpointIp,        kEndpointIpAlias, kEndpointPort,
                                      kEndpointPortAlias, kAllowedIps,      kMtu,
                                      kKeepalive};
    for (const char* n : {kPrivateKey, kAddresses, kPublicKey, kPresharedKey}) {
      names.emplace_back(n);
      names.push_back(StrCat(n, kSecretFile));
    }
    return names;
  }();
  return kNames;
}

bool IsEnvFormName(std::string_view name) {
  return name.rfind("WIREGUARD_", 0) == 0 || name.rfind("VPN_ENDPOINT_", 0) == 0;
}

// One variable's value, wherever it came from. Wiped on destruction: it may be a key.
struct Value {
  std::string text;   // trimmed
  std::string name;   // the variable the user set: NAME or NAME_SECRETFILE
  std::string where;  // "" for NAME; "\"PATH\": " for a value read from NAME_SECRETFILE's file

  Value() = default;
  Value(Value&&) = default;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  ~Value() { crypto::SecureZero(text.data(), text.size()); }
};

class EnvParser {
 public:
  EnvParser(const Environment& env, const SecretReader& read_secret)
      : env_(env), read_secret_(read_secret) {}

  ParseResult Run() {
    if (!HasEnvConfig(env_)) {
      Error(kEnvironmentSource, StrCat(kPrivateKey, " (or ", kPrivateKey, kSecretFile,
                                       ") is not set: the environment holds no WireGuard config"));
      return Finish();
    }
    required_with_ = Lookup(kPrivateKey) ? kPrivateKey : StrCat(kPrivateKey, kSecretFile);
    InterfaceConfig& ifc = config_.interface;
    PeerConfig& peer = config_.peers.emplace_back();
    bool has_private_key = false;
    if (std::optional<Value> v = Get(kPrivateKey, /*secret_file=*/true)) {
      crypto::KeyBytes b;
      has_private_key = Key(*v, &b);
      if (has_private_key) ifc.private_key = crypto::PrivateKey(b);
      crypto::SecureZero(b.data(), b.size());
    }

    if (std::optional<Value> v = Required(kAddresses, /*secret_file=*/true)) {
      Prefixes(*v, &ifc.addresses, /*network_form=*/false);
    }
    bool has_public_key = false;
    if (std::optional<Value> v = Required(kPublicKey, /*secret_file=*/true)) {
      crypto::KeyBytes b;
      has_public_key = Key(*v, &b);
      if (has_public_key) peer.public_key = crypto::PublicKey(b);
    }
    if (std::optional<Value> v = Get(kPresharedKey, true)) {
      crypto::KeyBytes b;
      if (Key(*v, &b)) peer.preshared_key = crypto::PresharedKey(b);
      crypto::SecureZero(b.data(), b.size());
    }
    ParseEndpoint(&peer);
    Value allowed;
    if (std::optional<Value> v = Get(kAllowedIps, false)) {
      Prefixes(*v, &peer.allowed_ips, /*network_form=*/true);
    } else {
      allowed.text = kDefaultAllowedIps;
      allowed.name = kAllowedIps;
      Prefixes(allowed, &peer.allowed_ips, /*network_form=*/true);
    }
    if (std::optional<Value> v = Get(kMtu, false)) {
      if (auto mtu = Unsigned(*v, 576, 65535)) ifc.mtu = static_cast<int>(*mtu);
    }
    if (std::optional<Value> v = Get(kKeepalive, false)) {
      std::string why;
      if (auto seconds = ParseSeconds(v->text, 65535, &why)) {
        peer.persistent_keepalive = static_cast<uint16_t>(*seconds);
      } else {
        Fail(*v, v->text, why);
      }
    }

    if (has_private_key && has_public_key && ifc.private_key.DerivePublic() == peer.public_key) {
      Error(kEnvironmentSource,
            StrCat(kPublicKey, " is the interface's own public key (the one derived from ",
                   kPrivateKey, "); it must be the VPN server's"));
    }
    bool has_v6_address = false;
    for (const IpPrefix& a : ifc.addresses) has_v6_address |= a.addr.is_v6();
    if (ifc.mtu && *ifc.mtu < 1280 && has_v6_address) {
      diags_.Warning(kMtu, 0,
                     StrCat(*ifc.mtu, " is below 1280, the minimum for IPv6; IPv6 will not work"));
    }
    WarnUnknown();
    return Finish();
  }

 private:
  void Error(const std::string& source, std::string message) {
    diags_.Error(source, 0, std::move(message));
  }

  // `VARIABLE: "value" why`, or `VARIABLE_SECRETFILE: "path": "value" why`.
  void Fail(const Value& v, std::string_view quoted, std::string_view why) {
    Error(v.name, StrCat(v.where, "\"", quoted, "\" ", why));
  }

  // The variable's value if set and not empty (as in compose files, empty means unset); reads
  // NAME_SECRETFILE when `secret_file`. Reports both forms set and unreadable secret files.
  std::optional<Value> Get(const char* name, bool secret_file) {
    std::optional<std::string_view> direct = Lookup(name);
    std::string file_name = StrCat(name, kSecretFile);
    std::optional<std::string_view> path = secret_file ? Lookup(file_name) : std::nullopt;
    if (direct && path) {
      Error(kEnvironmentSource,
            StrCat(name, " and ", file_name, " are both set; set only one of them"));
      return std::nullopt;
    }
    std::optional<Value> v;
    if (direct) {
      v.emplace();
      v->text = std::string(*direct);
      v->name = name;
      return v;
    }
    if (!path) return v;
    std::string quoted_path = StrCat("\"", *path, "\"");
    Result<std::string> content = read_secret_(std::string(*path));
    if (!content.ok()) {
      Error(file_name, StrCat(quoted_path, ": ", content.error().message()));
      return v;
    }
    v.emplace();
    v->text = std::string(TrimSpace(*content));
    crypto::SecureZero(content->data(), content->size());
    v->name = file_name;
    v->where = quoted_path + ": ";
    if (v->text.empty()) {
      Error(file_name, StrCat(quoted_path, " is empty"));
      v.reset();
    }
    return v;
  }

  std::optional<std::string_view> Lookup(const std::string& name) const {
    auto it = env_.find(name);
    if (it == env_.end()) return std::nullopt;
    std::string_view v = TrimSpace(it->second);
    if (v.empty()) return std::nullopt;
    return v;
  }

  // Get() that reports a missing value as `NAME is required with WIREGUARD_PRIVATE_KEY`.
  std::optional<Value> Required(const char* name, bool secret_file) {
    bool set = Lookup(name) || (secret_file && Lookup(StrCat(name, kSecretFile)));
    if (!set) Error(kEnvironmentSource, StrCat(name, " is required with ", required_with_));
    return Get(name, secret_file);
  }

  // A decimal in [min, max]; reports `VARIABLE: "value" why` otherwise.
  std::optional<uint64_t> Unsigned(const Value& v, uint64_t min, uint64_t max) {
    std::string why;
    std::optional<uint64_t> n = ParseUnsigned(v.text, min, max, &why);
    if (!n) Fail(v, v.text, why);
    return n;
  }

  // A key: never quoted, whichever variable it came from.
  bool Key(const Value& v, crypto::KeyBytes* out) {
    crypto::KeyParseError e = crypto::ParseKey(v.text, out);
    if (e == crypto::KeyParseError::kNone) return true;
    Error(v.name,
          StrCat(v.where, "not a valid key: ", crypto::KeyParseErrorText(e), " (value not shown)"));
    return false;
  }

  void Prefixes(const Value& v, std::vector<IpPrefix>* out, bool network_form) {
    for (std::string_view piece : SplitTrimmed(v.text, ',')) {
      if (piece.empty()) {
        Fail(v, v.text, "has an empty item between commas");
        continue;
      }
      std::string why;
      if (auto p = IpPrefix::Parse(piece, &why)) {
        out->push_back(network_form ? p->Network() : *p);
      } else {
        Fail(v, piece, "is not a CIDR: " + why);
      }
    }
  }

  // `name` or its `alias`; both set with different values is an error.
  std::optional<Value> EitherName(const char* name, const char* alias) {
    std::optional<Value> a = Get(name, false);
    std::optional<Value> b = Get(alias, false);
    if (a && b && a->text != b->text) {
      Fail(*b, b->text, StrCat("differs from ", name, " \"", a->text, "\"; set only one of them"));
      return std::nullopt;
    }
    return a ? std::move(a) : std::move(b);
  }

  void ParseEndpoint(PeerConfig* peer) {
    bool set = Lookup(kEndpointIp) || Lookup(kEndpointIpAlias);
    std::optional<Value> host = EitherName(kEndpointIp, kEndpointIpAlias);
    if (!set) {
      Error(kEnvironmentSource,
            StrCat(kEndpointIp, " (or ", kEndpointIpAlias, ") is required with ", required_with_));
    }
    Endpoint ep;
    ep.port = kDefaultPort;
    bool ok = host.has_value();
    if (host) {
      std::string_view text = host->text;
      if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
      }
      ep.host = std::string(text);
      ep.ip = IpAddress::Parse(ep.host);
      if (!ep.ip && !IsDomainName(ep.host)) {
        bool host_port =
            text.find(':') != std::string_view::npos && text.find(':') == text.rfind(':');
        Fail(*host, host->text,
             StrCat("is neither an IP address nor a host name",
                    host_port ? StrCat(" (the port goes in ", kEndpointPort, ")") : ""));
        ok = false;
      }
    }
    if (std::optional<Value> port = EitherName(kEndpointPort, kEndpointPortAlias)) {
      std::optional<uint64_t> n = Unsigned(*port, 1, 65535);
      if (n) ep.port = static_cast<uint16_t>(*n);
      ok &= n.has_value();
    }
    if (ok) peer->endpoint = std::move(ep);
  }

  void WarnUnknown() {
    const std::vector<std::string>& known = KnownNames();
    for (const auto& [name, value] : env_) {
      if (!IsEnvFormName(name) || std::find(known.begin(), known.end(), name) != known.end()) {
        continue;
      }
      std::string best;
      size_t best_distance = SIZE_MAX;
      for (const std::string& k : known) {
        size_t d = EditDistance(name, k);
        if (d < best_distance) {
          best_distance = d;
          best = k;
        }
      }
      std::string hint = best_distance <= 3 ? StrCat("; did you mean ", best, "?") : "";
      diags_.Warning(name, 0, "is not read by wgate, ignored" + hint);
    }
  }

  ParseResult Finish() {
    ParseResult result;
    result.diagnostics = std::move(diags_);
    if (!result.diagnostics.has_errors()) {
      config_.source = kEnvironmentSource;
      result.config = std::move(config_);
    }
    return result;
  }

  const Environment& env_;
  const SecretReader& read_secret_;
  std::string required_with_;
  Diagnostics diags_;
  WgConfig config_;
};

}  // namespace

bool HasEnvConfig(const Environment& env) {
  for (std::string name : {std::string(kPrivateKey), StrCat(kPrivateKey, kSecretFile)}) {
    auto it = env.find(name);
    if (it != env.end() && !TrimSpace(it->second).empty()) return true;
  }
  return false;
}

std::vector<std::string> EnvConfigVariablesSet(const Environment& env) {
  std::vector<std::string> names;
  for (const auto& [name, value] : env) {
    if (IsEnvFormName(name) && !TrimSpace(value).empty()) names.push_back(name);
  }
  return names;
}

ParseResult ParseEnvConfig(const Environment& env, const SecretReader& read_secret) {
  return EnvParser(env, read_secret).Run();
}

}  // namespace wgate::config
