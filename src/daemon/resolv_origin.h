// The namespace's original resolv.conf, recorded once in the kernel.
//
// Containers that join a namespace (the gateway and the consumers joining the holder, every
// container of a pod) share the first container's /etc/resolv.conf, which wgate rewrites. A
// gateway container that is recreated finds its predecessor's rewrite there, and its private
// backup (/run/wgate) is gone with the old container; taking the rewrite for the original would
// point a host-name endpoint's lookup and `unblock` at the tunnel's DNS. So whoever locks the
// namespace first (`wgate hold`, or `wgate run` in the simple layout) records the original's
// meaningful lines in an nftables table without hooks, `table inet wgate_origin` (it filters
// nothing): kernel state of the namespace that outlives any one container and that only a
// process with NET_ADMIN can write, unlike the file a consumer shares.
//
// Thread-safety: none; the daemons' main threads use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "daemon/resolv_conf.h"
#include "firewall/nft_backend.h"

namespace wgate::daemon {

inline constexpr char kOriginTable[] = "inet wgate_origin";

// The nft script that records `resolv_conf` (replacing any earlier record, in one transaction):
// its nameserver, search, domain, options and sortlist lines, one hook-less chain each, as
// comments (nft allows 128 characters; a longer line is cut at a word boundary, a line with a
// double quote is left out, 16 lines at most).
std::string OriginScript(std::string_view resolv_conf);
// The recorded lines, from `nft list table inet wgate_origin`, as resolv.conf text.
std::string ParseOriginListing(std::string_view listing);

// nullopt when nothing is recorded.
Result<std::optional<std::string>> LoadResolvOrigin(firewall::NftBackend& nft);
Status SaveResolvOrigin(firewall::NftBackend& nft, std::string_view resolv_conf);

// At lockdown: makes `resolv`'s backup hold the namespace's original resolv.conf. A recorded
// origin wins (a recreated gateway); else the file as it is now is recorded and backed up, unless
// it is already a wgate rewrite with no record left (then the original is unknown: logged, and
// nothing is taken for it). A backup this process already has is recorded if nothing is.
void EstablishResolvOrigin(firewall::NftBackend& nft, ResolvConf& resolv);

}  // namespace wgate::daemon
