#include "daemon/fallback_record.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "daemon/file_util.h"

namespace wgate::daemon {

namespace {

using nlohmann::json;

constexpr int kFormatVersion = 1;

bool SameRoute(const netlink::Route& a, const netlink::Route& b) {
  return a.dst == b.dst && a.type == b.type && a.table == b.table && a.dev == b.dev &&
         a.gateway == b.gateway && a.prefsrc == b.prefsrc && a.metric == b.metric &&
         a.mtu == b.mtu && a.protocol == b.protocol;
}

// The checks of one JSON object: where it is ("links[0].routes[1]"), which keys it may have.
class Reader {
 public:
  Reader(std::string_view source, std::string where, const json& object)
      : source_(source), where_(std::move(where)), object_(object) {}

  // Every key present is one of `allowed`.
  Status OnlyKeys(std::initializer_list<const char*> allowed) const {
    if (!object_.is_object()) return Fail("is not an object");
    for (const auto& [key, value] : object_.items()) {
      bool known = false;
      for (const char* a : allowed) known |= key == a;
      if (!known) return Fail(StrCat("unknown key \"", key, "\""));
    }
    return Ok();
  }
  bool Has(const char* key) const { return object_.contains(key); }
  const json& At(const char* key) const { return object_.at(key); }

  Result<uint64_t> Number(const char* key, uint64_t max) const {
    if (!Has(key)) return Fail(StrCat("\"", key, "\" is missing"));
    const json& v = At(key);
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max) {
      return Fail(StrCat("\"", key, "\" is ", v.dump(), ", not a number from 0 to ", max));
    }
    return v.get<uint64_t>();
  }
  Result<std::string> String(const char* key) const {
    if (!Has(key)) return Fail(StrCat("\"", key, "\" is missing"));
    if (!At(key).is_string())
      return Fail(StrCat("\"", key, "\" is ", At(key).dump(), ", not a string"));
    return At(key).get<std::string>();
  }
  Result<IpAddress> Address(const char* key) const {
    Result<std::string> text = String(key);
    if (!text) return text.error();
    std::optional<IpAddress> ip = IpAddress::Parse(*text);
    if (!ip) return Fail(StrCat(key, " \"", *text, "\" is not an IP address"));
    return *ip;
  }

  Error Fail(std::string_view what) const {
    return Error(StrCat(source_, ": ", where_.empty() ? "" : where_ + ": ", what));
  }

 private:
  std::string_view source_;
  std::string where_;
  const json& object_;
};

// What the kernel accepts as an interface name (dev_valid_name).
bool ValidLinkName(std::string_view name) {
  if (name.empty() || name.size() >= 16 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

Result<IpPrefix> ParsePrefix(const Reader& r, const std::string& text, std::string_view what) {
  std::string why;
  std::optional<IpPrefix> p = IpPrefix::Parse(text, &why);
  if (!p || text.find('/') == std::string::npos) {
    return r.Fail(StrCat(what, " \"", text, "\" is not an address with a prefix length",
                         why.empty() ? "" : ": " + why));
  }
  return *p;
}

Result<netlink::Route> ParseRoute(std::string_view source, const std::string& where, const json& j,
                                  const std::string& dev) {
  Reader r(source, where, j);
  if (Status s = r.OnlyKeys({"dst", "table", "gateway", "prefsrc", "metric", "mtu", "protocol"});
      !s) {
    return s.error();
  }
  netlink::Route route;
  route.dev = dev;
  Result<std::string> dst = r.String("dst");
  if (!dst) return dst.error();
  Result<IpPrefix> prefix = ParsePrefix(r, *dst, "dst");
  if (!prefix) return prefix.error();
  if (!(prefix->Network() == *prefix)) {
    return r.Fail(StrCat("dst \"", *dst, "\" has host bits set"));
  }
  route.dst = *prefix;
  Result<uint64_t> table = r.Number("table", std::numeric_limits<uint32_t>::max());
  if (!table) return table.error();
  if (*table == 0 || *table == netlink::kTableLocal) {
    return r.Fail(StrCat("table ", *table, " is not a table the fallback records"));
  }
  route.table = static_cast<uint32_t>(*table);
  Result<uint64_t> protocol = r.Number("protocol", 255);
  if (!protocol) return protocol.error();
  route.protocol = static_cast<uint8_t>(*protocol);
  for (auto [key, field] : {std::pair{"gateway", &route.gateway}, {"prefsrc", &route.prefsrc}}) {
    if (!r.Has(key)) continue;
    Result<IpAddress> ip = r.Address(key);
    if (!ip) return ip.error();
    if (ip->family() != route.dst.addr.family()) {
      return r.Fail(StrCat(key, " ", ip->ToString(), " is not of the family of dst ", *dst));
    }
    *field = *ip;
  }
  for (auto [key, field] : {std::pair{"metric", &route.metric}, {"mtu", &route.mtu}}) {
    if (!r.Has(key)) continue;
    Result<uint64_t> n = r.Number(key, std::numeric_limits<uint32_t>::max());
    if (!n) return n.error();
    *field = static_cast<uint32_t>(*n);
  }
  return route;
}

Result<ShutLink> ParseLink(std::string_view source, const std::string& where, const json& j) {
  Reader r(source, where, j);
  if (Status s = r.OnlyKeys({"name", "addresses", "routes"}); !s) return s.error();
  ShutLink link;
  Result<std::string> name = r.String("name");
  if (!name) return name.error();
  if (!ValidLinkName(*name)) return r.Fail(StrCat("name \"", *name, "\" is not an interface name"));
  link.name = *name;
  for (const char* key : {"addresses", "routes"}) {
    if (!r.Has(key)) return r.Fail(StrCat("\"", key, "\" is missing"));
    if (!r.At(key).is_array()) return r.Fail(StrCat("\"", key, "\" is not a list"));
  }
  size_t i = 0;
  for (const json& a : r.At("addresses")) {
    std::string at = StrCat("addresses[", i++, "]");
    if (!a.is_string()) return r.Fail(StrCat(at, " is ", a.dump(), ", not a string"));
    Result<IpPrefix> p = ParsePrefix(r, a.get<std::string>(), at);
    if (!p) return p.error();
    link.addresses.push_back(*p);
  }
  i = 0;
  for (const json& route : r.At("routes")) {
    Result<netlink::Route> parsed =
        ParseRoute(source, StrCat(where, ".routes[", i++, "]"), route, link.name);
    if (!parsed) return parsed.error();
    link.routes.push_back(*parsed);
  }
  return link;
}

}  // namespace

bool ShutLink::operator==(const ShutLink& o) const {
  if (name != o.name || addresses != o.addresses || routes.size() != o.routes.size()) return false;
  for (size_t i = 0; i < routes.size(); ++i) {
    if (!SameRoute(routes[i], o.routes[i])) return false;
  }
  return true;
}

ShutLink* FallbackRecord::Find(std::string_view name) {
  for (ShutLink& l : links) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

std::string FallbackRecordPath() {
  Result<uint64_t> ino = NetnsInode();
  if (!ino.ok()) return "/run/wgate/fallback.json";
  return StrCat("/run/wgate/fallback-net", *ino, ".json");
}

std::string FallbackRecordToText(const FallbackRecord& record) {
  json links = json::array();
  for (const ShutLink& l : record.links) {
    json addresses = json::array();
    for (const IpPrefix& a : l.addresses) addresses.push_back(a.ToString());
    json routes = json::array();
    for (const netlink::Route& r : l.routes) {
      json route = {
          {"dst", r.dst.Network().ToString()}, {"table", r.table}, {"protocol", r.protocol}};
      if (r.gateway) route["gateway"] = r.gateway->ToString();
      if (r.prefsrc) route["prefsrc"] = r.prefsrc->ToString();
      if (r.metric) route["metric"] = *r.metric;
      if (r.mtu) route["mtu"] = *r.mtu;
      routes.push_back(route);
    }
    links.push_back({{"name", l.name}, {"addresses", addresses}, {"routes", routes}});
  }
  json j = {{"version", kFormatVersion},
            {"ipv6_disabled_by_wgate", record.ipv6_disabled_by_wgate},
            {"links", links}};
  return j.dump(2) + "\n";
}

Result<FallbackRecord> ParseFallbackRecord(std::string_view text, std::string_view source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error(StrCat(source, ": not a wgate fallback record: ", e.what()));
  }
  Reader r(source, "", j);
  if (Status s = r.OnlyKeys({"version", "ipv6_disabled_by_wgate", "links"}); !s) return s.error();
  Result<uint64_t> version = r.Number("version", std::numeric_limits<uint32_t>::max());
  if (!version) return version.error();
  if (*version != kFormatVersion) {
    return r.Fail(StrCat("version ", *version, " is not ", kFormatVersion,
                         ", the only one this wgate reads"));
  }
  FallbackRecord record;
  if (!r.Has("ipv6_disabled_by_wgate") || !r.At("ipv6_disabled_by_wgate").is_boolean()) {
    return r.Fail("\"ipv6_disabled_by_wgate\" is missing or not true/false");
  }
  record.ipv6_disabled_by_wgate = r.At("ipv6_disabled_by_wgate").get<bool>();
  if (!r.Has("links") || !r.At("links").is_array())
    return r.Fail("\"links\" is missing or not a list");
  size_t i = 0;
  for (const json& l : r.At("links")) {
    Result<ShutLink> link = ParseLink(source, StrCat("links[", i++, "]"), l);
    if (!link) return link.error();
    if (record.Find(link->name)) return r.Fail(StrCat("link \"", link->name, "\" appears twice"));
    record.links.push_back(std::move(*link));
  }
  return record;
}

Result<std::optional<FallbackRecord>> LoadFallbackRecord(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::optional<FallbackRecord>();
    return text.error();
  }
  Result<FallbackRecord> record = ParseFallbackRecord(*text, path);
  if (!record) return record.error();
  return std::optional<FallbackRecord>(std::move(*record));
}

Status SaveFallbackRecord(const std::string& path, const FallbackRecord& record) {
  if (Status s = EnsureParentDir(path, 0700); !s) return s;
  // A crash mid-write must leave the old record or the new one, never half of one: the daemon
  // may die at any point of the fallback, and `wgate unblock` reads what it left.
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  if (Status s = WriteFileInPlace(tmp, FallbackRecordToText(record), 0600); !s) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = Error::FromErrno(StrCat("rename ", tmp, " to ", path), errno);
    ::unlink(tmp.c_str());
    return e;
  }
  return Ok();
}

Status RemoveFallbackRecord(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::FromErrno("unlink " + path, errno);
  }
  return Ok();
}

}  // namespace wgate::daemon
