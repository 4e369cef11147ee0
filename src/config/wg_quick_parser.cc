#include "config/wg_quick_parser.h"

#include <array>
#include <map>
#include <optional>

#include "base/error.h"
#include "base/strings.h"
#include "config/value_parsers.h"

namespace wgate::config {

namespace {

enum class Section { kNone, kInterface, kPeer, kUnknown };

enum class Key {
  kPrivateKey,
  kListenPort,
  kFwMark,
  kAddress,
  kDns,
  kMtu,
  kTable,
  kPreUp,
  kPostUp,
  kPreDown,
  kPostDown,
  kSaveConfig,
  kPublicKey,
  kPresharedKey,
  kAllowedIps,
  kEndpoint,
  kPersistentKeepalive,
};

struct KeyInfo {
  Key key;
  std::string_view name;  // canonical spelling, as wg-quick documents it
  Section section;
  bool repeatable;  // several lines accumulate (lists, hooks)
};

constexpr std::array<KeyInfo, 17> kKeys = {{
    {Key::kPrivateKey, "PrivateKey", Section::kInterface, false},
    {Key::kListenPort, "ListenPort", Section::kInterface, false},
    {Key::kFwMark, "FwMark", Section::kInterface, false},
    {Key::kAddress, "Address", Section::kInterface, true},
    {Key::kDns, "DNS", Section::kInterface, true},
    {Key::kMtu, "MTU", Section::kInterface, false},
    {Key::kTable, "Table", Section::kInterface, false},
    {Key::kPreUp, "PreUp", Section::kInterface, true},
    {Key::kPostUp, "PostUp", Section::kInterface, true},
    {Key::kPreDown, "PreDown", Section::kInterface, true},
    {Key::kPostDown, "PostDown", Section::kInterface, true},
    {Key::kSaveConfig, "SaveConfig", Section::kInterface, false},
    {Key::kPublicKey, "PublicKey", Section::kPeer, false},
    {Key::kPresharedKey, "PresharedKey", Section::kPeer, false},
    {Key::kAllowedIps, "AllowedIPs", Section::kPeer, true},
    {Key::kEndpoint, "Endpoint", Section::kPeer, false},
    {Key::kPersistentKeepalive, "PersistentKeepalive", Section::kPeer, false},
}};

std::string_view SectionName(Section s) {
  switch (s) {
    case Section::kInterface:
      return "[Interface]";
    case Section::kPeer:
      return "[Peer]";
    default:
      return "?";
  }
}

const KeyInfo* FindKey(std::string_view name) {
  for (const KeyInfo& k : kKeys) {
    if (EqualsIgnoreCase(k.name, name)) return &k;
  }
  return nullptr;
}

// The closest spelling among `candidates`, when it is close enough to be a typo.
template <typename Range>
std::string Suggest(std::string_view word, const Range& candidates) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  size_t limit = std::max<size_t>(2, best.size() / 3);
  return best_distance <= limit ? best : std::string();
}

std::string DidYouMean(const std::string& suggestion) {
  return suggestion.empty() ? "" : StrCat("; did you mean \"", suggestion, "\"?");
}

bool IsSpaceChar(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// The text up to the first whitespace; `text` is already trimmed.
std::string_view FirstWord(std::string_view text) {
  size_t end = 0;
  while (end < text.size() && !IsSpaceChar(text[end])) ++end;
  return text.substr(0, end);
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// A key is 43 base64 characters and a '='. Any run of 40 or more (a key, a key with its padding
// forgotten or a character lost, a key glued to a name as in "PrivateKey:<key>") is treated as
// key material: no plausible key name or command word is that long without a break.
constexpr size_t kKeyLikeRun = 40;

bool LooksLikeKey(std::string_view word) {
  size_t run = 0;
  for (char c : word) {
    run = IsBase64Char(c) ? run + 1 : 0;
    if (run >= kKeyLikeRun) return true;
  }
  return false;
}

// Never more than this many bytes of text the parser could not make sense of go into a message.
constexpr size_t kMaxQuoted = 32;

// Quotes the part of unparsed `text` (trimmed) that an error may show: its first word, cut to
// kMaxQuoted bytes with "…", and " …" when more words follow. The rest of such a line may be a
// key value or a hook's secret, so it is never shown. Returns nullopt when the first word itself
// looks like key material: then nothing of it may be quoted.
std::optional<std::string> QuoteFirstWord(std::string_view text) {
  std::string_view word = FirstWord(text);
  if (LooksLikeKey(word)) return std::nullopt;
  std::string out = "\"";
  if (word.size() > kMaxQuoted) {
    size_t cut = kMaxQuoted;
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(word[cut]) & 0xC0) == 0x80) --cut;
    out.append(word.substr(0, cut));
    out.append("\u2026");
  } else {
    out.append(word);
  }
  if (word.size() < text.size()) out.append(" \u2026");
  out.append("\"");
  return out;
}

// `what` followed by the quoted first word of `text`, or by `key_like` when that word looks like a
// key.
std::string Describe(std::string_view what, std::string_view text, std::string_view key_like) {
  std::optional<std::string> q = QuoteFirstWord(text);
  return q ? StrCat(what, " ", *q) : StrCat(what, " ", key_like);
}

// The error for "Key value" with the '=' forgotten. The value is not quoted: it may be a key.
std::string NoEqualsMessage(const KeyInfo& key) {
  return StrCat("\"", key.name, "\" has no \"=\" before its value (expected \"", key.name,
                " = ...\")");
}

class Parser {
 public:
  Parser(std::string source) : source_(std::move(source)) {}

  ParseResult Run(std::string_view text) {
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
    int line_no = 0;
    while (!text.empty() || line_no == 0) {
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      ++line_no;
      ParseLine(line, line_no);
      if (nl == std::string_view::npos) break;
    }
    Finish();
    ParseResult result;
    result.diagnostics = std::move(diags_);
    if (!result.diagnostics.has_errors()) {
      config_.source = source_;
      result.config = std::move(config_);
    }
    return result;
  }

 private:
  void Error(int line, std::string message) { diags_.Error(source_, line, std::move(message)); }
  void Warning(int line, std::string message) { diags_.Warning(source_, line, std::move(message)); }

  void ParseLine(std::string_view raw, int line) {
    // wg-quick and wg both cut the line at the first '#'.
    std::string_view stripped = TrimSpace(raw.substr(0, raw.find('#')));
    if (stripped.empty()) return;
    if (stripped.front() == '[') {
      ParseSectionHeader(stripped, line);
      return;
    }
    // Text the parser cannot make sense of is quoted only through QuoteFirstWord: the rest of
    // such a line is often a key whose '=' padding was taken for the separator.
    size_t eq = stripped.find('=');
    std::string_view key_text = TrimSpace(stripped.substr(0, eq));
    std::string_view first_word = FirstWord(key_text);
    const KeyInfo* key = FindKey(key_text);
    // "PrivateKey <key>" with the '=' forgotten: the key's own padding '=' (or none) follows.
    const KeyInfo* key_missing_eq =
        !key && first_word.size() < key_text.size() ? FindKey(first_word) : nullptr;
    if (eq == std::string_view::npos) {
      if (key || key_missing_eq) {
        MarkKeyLineSeen(key ? *key : *key_missing_eq);
      }
      if (key) {
        Error(line,
              StrCat("\"", key->name, "\" has no value (expected \"", key->name, " = ...\")"));
      } else if (key_missing_eq) {
        Error(line, NoEqualsMessage(*key_missing_eq));
      } else {
        std::vector<std::string_view> names;
        for (const KeyInfo& k : kKeys) names.push_back(k.name);
        Error(line, StrCat(Describe("unrecognized line", key_text,
                                    "starting with a key-like value, not quoted"),
                           " (expected \"Key = value\" or a [Section])",
                           DidYouMean(Suggest(first_word, names))));
      }
      return;
    }
    std::string_view value = TrimSpace(stripped.substr(eq + 1));
    if (key_text.empty()) {
      Error(line, "line has no key before \"=\"");  // what follows may be a key: not quoted
      return;
    }
    if (section_ == Section::kUnknown) return;  // already reported at the section header
    if (key_missing_eq) {
      MarkKeyLineSeen(*key_missing_eq);
      Error(line, NoEqualsMessage(*key_missing_eq));
      return;
    }
    if (!key) {
      std::vector<std::string_view> names;
      for (const KeyInfo& k : kKeys) {
        if (section_ == Section::kNone || k.section == section_) names.push_back(k.name);
      }
      std::string where = section_ == Section::kNone ? "" : StrCat(" in ", SectionName(section_));
      std::optional<std::string> q = QuoteFirstWord(key_text);
      Error(line, q ? StrCat("unknown key ", *q, where, DidYouMean(Suggest(first_word, names)))
                    : StrCat("unknown key", where, ": a key-like value (not quoted)"));
      return;
    }
    if (section_ == Section::kNone) {
      Error(line, StrCat("\"", key->name, "\" appears before any section; it belongs in ",
                         SectionName(key->section)));
      return;
    }
    if (key->section != section_) {
      Error(line, StrCat("\"", key->name, "\" belongs in ", SectionName(key->section), ", not in ",
                         SectionName(section_)));
      return;
    }
    MarkKeyLineSeen(*key);
    if (value.empty()) {
      Error(line, StrCat("\"", key->name, "\" has no value (expected \"", key->name, " = ...\")"));
      return;
    }
    if (!key->repeatable) {
      auto [it, inserted] = seen_.emplace(key->key, line);
      if (!inserted) {
        Error(line, StrCat("\"", key->name, "\" is set twice in this section (first at line ",
                           it->second, ")"));
        return;
      }
    }
    if (section_ == Section::kInterface) {
      ParseInterfaceValue(*key, value, line);
    } else {
      ParsePeerValue(*key, value, line);
    }
  }

  // A key line with a bad value is reported once; "has no PrivateKey" would only repeat it.
  void MarkKeyLineSeen(const KeyInfo& key) {
    if (key.section != section_) return;
    if (key.key == Key::kPrivateKey) private_key_line_seen_ = true;
    if (key.key == Key::kPublicKey) peer_key_line_seen_.back() = true;
  }

  void ParseSectionHeader(std::string_view text, int line) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      Error(line, StrCat(Describe("section header", text, "(a key-like value, not quoted)"),
                         " has no closing \"]\""));
      section_ = Section::kUnknown;
      return;
    }
    if (close + 1 != text.size()) {
      std::string_view trailing = TrimSpace(text.substr(close + 1));
      Error(line, StrCat(Describe("section header", text, "(a key-like value, not quoted)"),
                         " has an unexpected trailing",
                         Describe("", trailing, "key-like value (not quoted)")));
    }
    std::string_view name = TrimSpace(text.substr(1, close - 1));
    seen_.clear();
    if (EqualsIgnoreCase(name, "Interface")) {
      if (interface_line_) {
        Error(line,
              StrCat("second [Interface] section (the first is at line ", interface_line_, ")"));
        section_ = Section::kUnknown;
        return;
      }
      interface_line_ = line;
      config_.interface.line = line;
      section_ = Section::kInterface;
    } else if (EqualsIgnoreCase(name, "Peer")) {
      config_.peers.emplace_back();
      config_.peers.back().line = line;
      peer_has_key_.push_back(false);
      peer_key_line_seen_.push_back(false);
      section_ = Section::kPeer;
    } else {
      std::array<std::string_view, 2> names = {"Interface", "Peer"};
      std::string s = Suggest(name, names);
      std::optional<std::string> q = QuoteFirstWord(StrCat("[", name, "]"));
      Error(line, q ? StrCat("unknown section ", *q, DidYouMean(s.empty() ? "" : "[" + s + "]"))
                    : "unknown section: a key-like value (not quoted)");
      section_ = Section::kUnknown;
    }
  }

  // Parses a key's value with a reason phrase; reports `Key "value" <why>` on failure.
  template <typename T>
  bool Number(const KeyInfo& key, std::string_view value, int line, uint64_t min, uint64_t max,
              T* out) {
    std::string why;
    auto v = ParseUnsigned(value, min, max, &why);
    if (!v) {
      Error(line, StrCat(key.name, " \"", value, "\" ", why));
      return false;
    }
    *out = static_cast<T>(*v);
    return true;
  }

  bool KeyValue(const KeyInfo& key, std::string_view value, int line, crypto::KeyBytes* out) {
    crypto::KeyParseError e = crypto::ParseKey(value, out);
    if (e != crypto::KeyParseError::kNone) {
      Error(line, StrCat(key.name, " ", crypto::KeyParseErrorText(e)));
      return false;
    }
    return true;
  }

  // A comma-separated list; reports empty items and calls `item` on the others.
  template <typename F>
  void List(const KeyInfo& key, std::string_view value, int line, F item) {
    for (std::string_view piece : SplitTrimmed(value, ',')) {
      if (piece.empty()) {
        Error(line, StrCat(key.name, " \"", value, "\" has an empty item between commas"));
        continue;
      }
      item(piece);
    }
  }

  void PrefixList(const KeyInfo& key, std::string_view value, int line, std::vector<IpPrefix>* out,
                  bool network_form) {
    List(key, value, line, [&](std::string_view piece) {
      std::string why;
      auto p = IpPrefix::Parse(piece, &why);
      if (!p) {
        Error(line, StrCat(key.name, " \"", piece, "\" is not a CIDR: ", why));
        return;
      }
      out->push_back(network_form ? p->Network() : *p);
    });
  }

  void ParseInterfaceValue(const KeyInfo& key, std::string_view value, int line) {
    InterfaceConfig& ifc = config_.interface;
    switch (key.key) {
      case Key::kPrivateKey: {
        crypto::KeyBytes b;
        if (KeyValue(key, value, line, &b)) {
          ifc.private_key = crypto::PrivateKey(b);
          has_private_key_ = true;
        }
        crypto::SecureZero(b.data(), b.size());
        break;
      }
      case Key::kListenPort: {
        uint16_t port;
        if (Number(key, value, line, 0, 65535, &port)) ifc.listen_port = port;
        break;
      }
      case Key::kFwMark: {
        if (EqualsIgnoreCase(value, "off")) {
          ifc.fwmark = 0;
          break;
        }
        std::string why;
        auto v = ParseUnsignedAnyBase(value, 0xffffffffu, &why);
        if (!v) {
          Error(line,
                StrCat("FwMark \"", value, "\" ", why, " (expected a number, 0x-hex, or \"off\")"));
        } else {
          ifc.fwmark = static_cast<uint32_t>(*v);
        }
        break;
      }
      case Key::kAddress:
        PrefixList(key, value, line, &ifc.addresses, /*network_form=*/false);
        break;
      case Key::kDns:
        List(key, value, line, [&](std::string_view piece) {
          if (auto ip = IpAddress::Parse(piece)) {
            ifc.dns_servers.push_back(*ip);
          } else if (IsDomainName(piece)) {
            ifc.dns_search.emplace_back(piece);
          } else {
            Error(line, StrCat("DNS \"", piece, "\" is neither an IP address nor a search domain"));
          }
        });
        break;
      case Key::kMtu: {
        int mtu;
        if (Number(key, value, line, 576, 65535, &mtu)) {
          ifc.mtu = mtu;
          mtu_line_ = line;
        }
        break;
      }
      case Key::kTable: {
        std::string v = ToLower(value);
        RoutingTable& t = ifc.table;
        if (v == "off")
          t.kind = RoutingTable::Kind::kOff;
        else if (v == "auto")
          t.kind = RoutingTable::Kind::kAuto;
        else if (v == "main")
          t = {RoutingTable::Kind::kId, 254};
        else if (v == "local")
          t = {RoutingTable::Kind::kId, 255};
        else if (v == "default")
          t = {RoutingTable::Kind::kId, 253};
        else {
          std::string why;
          auto id = ParseUnsigned(value, 1, 0xffffffffu, &why);
          if (!id) {
            Error(line, StrCat("Table \"", value, "\" ", why,
                               " (expected \"off\", \"auto\", \"main\" or a table number)"));
          } else {
            t = {RoutingTable::Kind::kId, static_cast<uint32_t>(*id)};
          }
        }
        break;
      }
      case Key::kPreUp:
        ifc.pre_up.emplace_back(value);
        break;
      case Key::kPostUp:
        ifc.post_up.emplace_back(value);
        break;
      case Key::kPreDown:
        ifc.pre_down.emplace_back(value);
        break;
      case Key::kPostDown:
        ifc.post_down.emplace_back(value);
        break;
      case Key::kSaveConfig:
        if (EqualsIgnoreCase(value, "true")) {
          ifc.save_config = true;
          Warning(line, "SaveConfig = true is ignored: wgate never writes the config file back");
        } else if (EqualsIgnoreCase(value, "false")) {
          ifc.save_config = false;
        } else {
          Error(line, StrCat("SaveConfig \"", value, "\" is not \"true\" or \"false\""));
        }
        break;
      default:
        WGATE_CHECK(false);
    }
  }

  void ParsePeerValue(const KeyInfo& key, std::string_view value, int line) {
    PeerConfig& peer = config_.peers.back();
    switch (key.key) {
      case Key::kPublicKey: {
        crypto::KeyBytes b;
        if (KeyValue(key, value, line, &b)) {
          peer.public_key = crypto::PublicKey(b);
          peer_has_key_.back() = true;
        }
        break;
      }
      case Key::kPresharedKey: {
        crypto::KeyBytes b;
        if (KeyValue(key, value, line, &b)) peer.preshared_key = crypto::PresharedKey(b);
        crypto::SecureZero(b.data(), b.size());
        break;
      }
      case Key::kAllowedIps:
        PrefixList(key, value, line, &peer.allowed_ips, /*network_form=*/true);
        break;
      case Key::kEndpoint:
        ParseEndpoint(value, line, &peer);
        break;
      case Key::kPersistentKeepalive: {
        if (EqualsIgnoreCase(value, "off")) {
          peer.persistent_keepalive = 0;
          break;
        }
        std::string why;
        auto v = ParseUnsigned(value, 0, 65535, &why);
        if (!v) {
          Error(line, StrCat("PersistentKeepalive \"", value, "\" ", why,
                             " (expected seconds or \"off\")"));
        } else {
          peer.persistent_keepalive = static_cast<uint16_t>(*v);
        }
        break;
      }
      default:
        WGATE_CHECK(false);
    }
  }

  void ParseEndpoint(std::string_view value, int line, PeerConfig* peer) {
    Endpoint ep;
    std::string_view port_text;
    bool has_port = false;
    if (value.front() == '[') {
      size_t close = value.find(']');
      if (close == std::string_view::npos) {
        Error(line, StrCat("Endpoint \"", value, "\" has no closing \"]\""));
        return;
      }
      ep.host = std::string(value.substr(1, close - 1));
      std::string_view rest = value.substr(close + 1);
      if (!rest.empty() && rest.front() == ':') {
        has_port = true;
        port_text = rest.substr(1);
      } else if (!rest.empty()) {
        Error(line,
              StrCat("Endpoint \"", value, "\" has an unexpected \"", rest, "\" after \"]\""));
        return;
      }
      ep.ip = IpAddress::Parse(ep.host);
      if (!ep.ip || !ep.ip->is_v6()) {
        Error(line, StrCat("Endpoint \"", value, "\": \"", ep.host,
                           "\" in brackets is not an IPv6 address"));
        return;
      }
    } else {
      size_t colon = value.rfind(':');
      if (colon != std::string_view::npos && value.find(':') != colon) {
        Error(
            line,
            StrCat("Endpoint \"", value,
                   "\" looks like an IPv6 address without brackets (expected \"[address]:port\")"));
        return;
      }
      ep.host = std::string(value.substr(0, colon));
      if (colon != std::string_view::npos) {
        has_port = true;
        port_text = value.substr(colon + 1);
      }
      ep.ip = IpAddress::Parse(ep.host);
      if (ep.host.empty()) {
        Error(line, StrCat("Endpoint \"", value, "\" has no host before the port"));
        return;
      }
      if (!ep.ip && !IsDomainName(ep.host)) {
        Error(line, StrCat("Endpoint \"", value, "\": \"", ep.host,
                           "\" is neither an IP address nor a host name"));
        return;
      }
    }
    if (!has_port) {
      std::string example =
          ep.ip && ep.ip->is_v6() ? StrCat("[", ep.host, "]:51820") : ep.host + ":51820";
      Error(line, StrCat("Endpoint \"", value, "\" has no port (expected host:port, e.g. \"",
                         example, "\")"));
      return;
    }
    std::string why;
    auto port = ParseUnsigned(port_text, 1, 65535, &why);
    if (!port) {
      Error(line, StrCat("Endpoint \"", value, "\": port \"", port_text, "\" ", why));
      return;
    }
    ep.port = static_cast<uint16_t>(*port);
    peer->endpoint = std::move(ep);
  }

  void Finish() {
    InterfaceConfig& ifc = config_.interface;
    if (!interface_line_) {
      Error(0, "no [Interface] section (a config needs one, with a PrivateKey)");
    } else if (!private_key_line_seen_) {
      Error(interface_line_, "[Interface] has no PrivateKey");
    }
    bool has_v6_address = false;
    for (const IpPrefix& a : ifc.addresses) has_v6_address |= a.addr.is_v6();
    if (ifc.mtu && *ifc.mtu < 1280 && has_v6_address) {
      Warning(mtu_line_,
              StrCat("MTU ", *ifc.mtu, " is below 1280, the minimum for IPv6; IPv6 will not work"));
    }
    if (interface_line_ && config_.peers.empty()) {
      Warning(interface_line_, "no [Peer] section: the tunnel has nowhere to send traffic");
    }
    std::optional<crypto::PublicKey> own;
    if (has_private_key_) own = ifc.private_key.DerivePublic();
    std::map<crypto::KeyBytes, int> peer_lines;
    std::map<IpPrefix, int> prefix_owner;
    for (size_t i = 0; i < config_.peers.size(); ++i) {
      const PeerConfig& p = config_.peers[i];
      if (!peer_has_key_[i]) {
        if (!peer_key_line_seen_[i]) Error(p.line, "[Peer] has no PublicKey");
        continue;
      }
      if (own && p.public_key == *own) {
        Error(p.line,
              "[Peer] has this interface's own public key (the one derived from its PrivateKey)");
      }
      auto [it, inserted] = peer_lines.emplace(p.public_key.bytes(), p.line);
      if (!inserted) {
        Error(p.line,
              StrCat("duplicate [Peer]: same PublicKey as the [Peer] at line ", it->second));
        continue;
      }
      for (const IpPrefix& prefix : p.allowed_ips) {
        auto [owner, fresh] = prefix_owner.emplace(prefix, p.line);
        if (!fresh && owner->second != p.line) {
          Warning(p.line, StrCat("AllowedIPs ", prefix.ToString(),
                                 " is also claimed by the [Peer] at line ", owner->second,
                                 "; as with wg, this later peer gets it"));
          owner->second = p.line;
        }
      }
    }
  }

  std::string source_;
  Diagnostics diags_;
  WgConfig config_;
  Section section_ = Section::kNone;
  std::map<Key, int> seen_;  // single-valued keys of the current section -> line
  int interface_line_ = 0;
  int mtu_line_ = 0;
  bool has_private_key_ = false;
  bool private_key_line_seen_ = false;
  std::vector<bool> peer_has_key_;        // per peer: a valid PublicKey was parsed
  std::vector<bool> peer_key_line_seen_;  // per peer: a PublicKey line exists, valid or not
};

}  // namespace

ParseResult ParseWgQuick(std::string_view text, std::string source) {
  return Parser(std::move(source)).Run(text);
}

}  // namespace wgate::config
