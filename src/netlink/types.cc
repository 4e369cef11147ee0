#include "netlink/types.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <iomanip>

#include "base/strings.h"

namespace wgate::netlink {
namespace {

std::string TableSuffix(uint32_t table) {
  return table == kTableMain ? std::string() : StrCat(" table ", table);
}

std::string Hex(uint32_t v) { return StrCat("0x", std::hex, v); }

}  // namespace

bool Link::up() const { return (flags & IFF_UP) != 0; }
bool Link::lower_up() const { return (flags & IFF_LOWER_UP) != 0; }

std::string Link::OperStateName() const {
  switch (operstate) {
    case IF_OPER_NOTPRESENT:
      return "NOTPRESENT";
    case IF_OPER_DOWN:
      return "DOWN";
    case IF_OPER_LOWERLAYERDOWN:
      return "LOWERLAYERDOWN";
    case IF_OPER_TESTING:
      return "TESTING";
    case IF_OPER_DORMANT:
      return "DORMANT";
    case IF_OPER_UP:
      return "UP";
    default:
      return "UNKNOWN";
  }
}

std::string Address::ToString() const { return StrCat(prefix.ToString(), " dev ", dev); }

std::string Route::ToString() const {
  std::string out;
  switch (type) {
    case RouteType::kUnicast:
      break;
    case RouteType::kBlackhole:
      out = "blackhole ";
      break;
    case RouteType::kUnreachable:
      out = "unreachable ";
      break;
    case RouteType::kProhibit:
      out = "prohibit ";
      break;
    case RouteType::kLocal:
      out = "local ";
      break;
    case RouteType::kOther:
      out = "other ";
      break;
  }
  out += dst.Network().ToString();
  if (gateway) out += StrCat(" via ", gateway->ToString());
  if (!dev.empty()) {
    out += StrCat(" dev ", dev);
  } else if (ifindex != 0) {
    out += StrCat(" ifindex ", ifindex);
  }
  out += TableSuffix(table);
  if (prefsrc) out += StrCat(" src ", prefsrc->ToString());
  if (metric) out += StrCat(" metric ", *metric);
  if (mtu) out += StrCat(" mtu ", *mtu);
  return out;
}

std::string Rule::ToString() const {
  std::string out = family == IpAddress::Family::kV6 ? "-6 " : "";
  if (invert) out += "not ";
  out += src ? StrCat("from ", src->Network().ToString()) : std::string("from all");
  if (dst) out += StrCat(" to ", dst->Network().ToString());
  if (fwmark) {
    out += StrCat(" fwmark ", Hex(*fwmark));
    if (fwmask && *fwmask != 0xffffffff) out += StrCat("/", Hex(*fwmask));
  }
  out += StrCat(" lookup ", table == kTableMain ? std::string("main") : StrCat(table));
  if (suppress_prefixlength) out += StrCat(" suppress_prefixlength ", *suppress_prefixlength);
  if (priority) out += StrCat(" pref ", *priority);
  return out;
}

std::string RouteLookup::ToString() const {
  std::string out = dst.ToString();
  if (gateway) out += StrCat(" via ", gateway->ToString());
  out += StrCat(" dev ", dev.empty() ? StrCat("ifindex ", ifindex) : dev);
  if (prefsrc) out += StrCat(" src ", prefsrc->ToString());
  out += TableSuffix(table);
  return out;
}

std::string Uplink::ToString() const {
  std::string out = dev;
  if (gateway4) out += StrCat(" via ", gateway4->ToString());
  if (gateway6) out += StrCat(" via ", gateway6->ToString());
  return StrCat(out, " mtu ", mtu);
}

}  // namespace wgate::netlink
