#include "daemon/fallback_shut.h"

#include <linux/if.h>

#include <algorithm>
#include <cerrno>

#include "base/log.h"
#include "base/strings.h"
#include "daemon/file_util.h"

namespace wgate::daemon {

namespace {

constexpr char kDisableIpv6All[] = "/proc/sys/net/ipv6/conf/all/disable_ipv6";

// The kernel stores an IPv4 route without a metric as 0, an IPv6 one as 1024.
uint32_t KernelMetric(const netlink::Route& r) {
  uint32_t m = r.metric.value_or(0);
  return m == 0 && r.dst.addr.is_v6() ? 1024 : m;
}

// The same route as far as the kernel's tables tell routes apart (and where a restore must
// not add a second one).
bool SameRoute(const netlink::Route& a, const netlink::Route& b) {
  return a.table == b.table && a.dst.Network() == b.dst.Network() && a.type == b.type &&
         a.dev == b.dev && a.gateway == b.gateway && KernelMetric(a) == KernelMetric(b);
}

bool Contains(const std::vector<netlink::Route>& routes, const netlink::Route& r) {
  return std::any_of(routes.begin(), routes.end(),
                     [&](const netlink::Route& o) { return SameRoute(o, r); });
}

// The routes of every table but local through `link`, as the record keeps them.
Result<std::vector<netlink::Route>> RoutesThrough(netlink::RouteNetlink& net,
                                                  const netlink::Link& link) {
  std::vector<netlink::Route> out;
  for (IpAddress::Family family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    Result<std::vector<netlink::Route>> routes = net.ListRoutes(family, 0);
    if (!routes) return routes.error();
    for (netlink::Route& r : *routes) {
      if (r.ifindex != link.index || r.table == netlink::kTableLocal ||
          r.type != netlink::RouteType::kUnicast) {
        continue;
      }
      r.dev = link.name;
      r.ifindex = 0;
      r.scope = 0;  // derived again when the route is added
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::string RecordTrouble(const std::string& path, const Error& e) {
  return StrCat(e.message(), " (", path,
                "): the links are shut all the same, but an unblock cannot bring them back");
}

}  // namespace

bool SetIpv6Disabled(bool disabled) {
  bool ok = true;
  for (const char* path : {kDisableIpv6All, "/proc/sys/net/ipv6/conf/default/disable_ipv6"}) {
    if (Status s = WriteFileInPlace(path, disabled ? "1\n" : "0\n"); !s.ok()) {
      LogWarn("cannot " + std::string(disabled ? "disable" : "re-enable") +
              " IPv6: " + s.error().message());
      ok = false;
    }
  }
  return ok;
}

std::optional<bool> ReadIpv6Disabled() {
  Result<std::string> text = ReadFile(kDisableIpv6All);
  if (!text) return std::nullopt;
  std::string_view v = TrimSpace(*text);
  if (v == "0") return false;
  if (v.empty()) return std::nullopt;
  return true;  // 1, or anything else the kernel reads as "off"
}

std::string ShutOutcome::TakenDownNames() const {
  std::string names;
  for (const std::string& n : taken_down) names += (names.empty() ? "" : ", ") + n;
  return names;
}

ShutOutcome ShutLinks(netlink::RouteNetlink& net, const std::string& record_path) {
  ShutOutcome out;
  Result<std::vector<netlink::Link>> links = net.ListLinks();
  if (!links) {
    out.problems.push_back("cannot list the links to take them down: " + links.error().message());
    return out;
  }
  std::vector<const netlink::Link*> up;
  for (const netlink::Link& l : *links) {
    if (l.up() && !(l.flags & IFF_LOOPBACK)) up.push_back(&l);
  }
  if (up.empty()) return out;

  Result<std::optional<FallbackRecord>> loaded = LoadFallbackRecord(record_path);
  bool keep_record = loaded.ok();
  FallbackRecord record = loaded.ok() && *loaded ? **loaded : FallbackRecord{};
  if (!loaded) out.problems.push_back(RecordTrouble(record_path, loaded.error()));
  for (const netlink::Link* l : up) {
    ShutLink* entry = record.Find(l->name);
    if (entry == nullptr) {
      record.links.push_back(ShutLink{l->name, {}, {}});
      entry = &record.links.back();
    }
    if (auto addresses = net.ListAddresses(l->name); addresses.ok()) {
      for (const netlink::Address& a : *addresses) {
        if (std::find(entry->addresses.begin(), entry->addresses.end(), a.prefix) ==
            entry->addresses.end()) {
          entry->addresses.push_back(a.prefix);
        }
      }
    } else {
      out.problems.push_back(
          StrCat("the addresses of ", l->name, " are not recorded: ", addresses.error().message()));
    }
    if (auto routes = RoutesThrough(net, *l); routes.ok()) {
      for (const netlink::Route& r : *routes) {
        if (!Contains(entry->routes, r)) entry->routes.push_back(r);
      }
    } else {
      out.problems.push_back(
          StrCat("the routes through ", l->name, " are not recorded: ", routes.error().message()));
    }
  }
  // Recorded before anything goes down: a crash in between leaves a record, not a lost route.
  if (keep_record) {
    if (Status s = SaveFallbackRecord(record_path, record); !s) {
      out.problems.push_back(RecordTrouble(record_path, s.error()));
    }
  }
  for (const netlink::Link* l : up) {
    if (Status s = net.SetLinkUp(l->name, false); !s) {
      out.problems.push_back(StrCat(l->name, " stays up: ", s.error().message()));
      continue;
    }
    out.taken_down.push_back(l->name);
  }
  return out;
}

std::vector<std::string> KeepLinksShut(netlink::RouteNetlink& net, const std::string& record_path,
                                       bool* reshut) {
  ShutOutcome shut = ShutLinks(net, record_path);
  std::vector<std::string> problems = shut.problems;
  *reshut = !shut.taken_down.empty();
  if (*reshut) {
    problems.insert(problems.begin(),
                    shut.TakenDownNames() + " was brought up from outside and is down again");
  }
  for (const std::string& p : problems) LogError("blackhole fallback: " + p);
  return problems;
}

bool SwitchIpv6Off(const FallbackSystem& sys, std::vector<std::string>* problems) {
  Result<std::optional<FallbackRecord>> loaded = LoadFallbackRecord(sys.record_path);
  if (!loaded) {
    problems->push_back(StrCat(loaded.error().message(),
                               ": IPv6 is switched off all the same, but an unblock cannot "
                               "switch it back on"));
    return sys.set_ipv6_disabled(true);
  }
  FallbackRecord record = *loaded ? **loaded : FallbackRecord{};
  if (!record.ipv6_disabled_by_wgate && sys.ipv6_disabled() == true) {
    return true;  // off before the fallback: the user's choice, left as it is on unblock
  }
  bool noted_now = false;
  if (!record.ipv6_disabled_by_wgate) {
    // Noted before the switch: a crash in between makes an unblock switch on what was on.
    record.ipv6_disabled_by_wgate = noted_now = true;
    if (Status s = SaveFallbackRecord(sys.record_path, record); !s) {
      problems->push_back(StrCat(s.error().message(),
                                 ": IPv6 is switched off all the same, but an unblock cannot "
                                 "switch it back on"));
    }
  }
  if (sys.set_ipv6_disabled(true)) return true;
  problems->push_back(
      "IPv6 stays on (/proc/sys is not writable here): the links are down, so its "
      "link-local messages cannot leave");
  if (noted_now) {
    record.ipv6_disabled_by_wgate = false;
    (void)SaveFallbackRecord(sys.record_path, record);
  }
  return false;
}

Status RestoreFallback(netlink::RouteNetlink& net, const FallbackSystem& sys) {
  Result<std::optional<FallbackRecord>> loaded = LoadFallbackRecord(sys.record_path);
  if (!loaded) {
    return Error(StrCat(loaded.error().message(),
                        "; nothing the blackhole fallback shut is brought back: bring the links "
                        "up and their routes back by hand, then delete the file"));
  }
  if (!*loaded) return Ok();
  const FallbackRecord& record = **loaded;
  std::vector<std::string> problems;
  // IPv6 first: its addresses can only be added back once it is on.
  if (record.ipv6_disabled_by_wgate && !sys.set_ipv6_disabled(false)) {
    problems.push_back("IPv6 could not be switched back on");
  }
  std::vector<const ShutLink*> present;
  for (const ShutLink& l : record.links) {
    Result<bool> exists = net.LinkExists(l.name);
    if (exists.ok() && !*exists) {
      LogWarn(StrCat("link ", l.name, " the blackhole fallback took down is gone; skipping it"));
      continue;
    }
    if (Status s = net.SetLinkUp(l.name, true); !s) {
      problems.push_back(s.error().message());
      continue;
    }
    present.push_back(&l);
    // The kernel keeps a down link's IPv4 addresses but drops its IPv6 ones.
    auto have = net.ListAddresses(l.name);
    for (const IpPrefix& a : l.addresses) {
      bool there = false;
      if (have.ok()) {
        for (const netlink::Address& h : *have) there |= h.prefix == a;
      }
      if (there) continue;
      if (Status s = net.AddAddress(l.name, a); !s && s.error().sys_errno() != EEXIST) {
        problems.push_back(s.error().message());
      }
    }
  }
  // Only the routes the kernel did not re-create; a route via a gateway that another restored
  // route makes reachable may need a second round.
  std::vector<netlink::Route> missing;
  for (const ShutLink* l : present)
    missing.insert(missing.end(), l->routes.begin(), l->routes.end());
  std::vector<std::string> failures;
  for (int round = 0; round < 3 && !missing.empty(); ++round) {
    std::vector<netlink::Route> now;
    for (IpAddress::Family family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
      if (auto routes = net.ListRoutes(family, 0); routes.ok())
        now.insert(now.end(), routes->begin(), routes->end());
    }
    std::vector<netlink::Route> left;
    failures.clear();
    for (const netlink::Route& r : missing) {
      if (Contains(now, r)) continue;
      Status s = net.AddRoute(r);
      if (s || s.error().sys_errno() == EEXIST) continue;
      failures.push_back(s.error().message());
      left.push_back(r);
    }
    if (left.size() == missing.size()) break;  // no progress
    missing = std::move(left);
  }
  problems.insert(problems.end(), failures.begin(), failures.end());
  if (!problems.empty()) {
    return Error(StrCat("restoring what the blackhole fallback shut: ", problems.front(),
                        problems.size() > 1 ? StrCat(" (and ", problems.size() - 1, " more)") : "",
                        "; the record stays in ", sys.record_path, " for another unblock"));
  }
  return RemoveFallbackRecord(sys.record_path);
}

}  // namespace wgate::daemon
