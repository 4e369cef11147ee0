#include "config/wg_config.h"

#include "base/strings.h"

namespace wgate::config {

std::string Endpoint::ToString() const {
  if (ip && ip->is_v6()) return StrCat("[", host, "]:", port);
  return StrCat(host, ":", port);
}

std::string RoutingTable::ToString() const {
  switch (kind) {
    case Kind::kAuto:
      return "auto";
    case Kind::kOff:
      return "off";
    case Kind::kId:
      break;
  }
  if (id == 254) return "main";
  if (id == 255) return "local";
  if (id == 253) return "default";
  return StrCat(id);
}

}  // namespace wgate::config
