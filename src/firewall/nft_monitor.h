// NftMonitor: nftables change events (the NFNLGRP_NFTABLES multicast group of NETLINK_NETFILTER)
// of the network namespace it was opened in, as a file descriptor for the daemons' poll loops.
//
// Why: another NET_ADMIN process (or a hook) that deletes, flushes or unhooks wgate's table
// opens the namespace until wgate looks again. With the monitor it looks at once: the kernel
// announces every committed change, and the daemon re-verifies (and re-applies) within
// milliseconds instead of at its next periodic check.
//
// What it reports: whether anything changed in the watched tables (by family and name, e.g.
// "inet wgate") since the last Read(), with one line per change for the log. It parses just the
// message type, flags and the table name; everything else is the verifier's business, so the
// monitor only needs to be precise enough never to miss a change to a watched table. Changes
// committed through `ignore_portid`'s socket (the daemon's own libnftables context, see
// NftablesBackend::portid()) are not reported: the daemon's own applies must not wake it to
// re-apply. A full socket buffer (ENOBUFS: events were lost) counts as a change.
//
// Coalescing: Read() drains everything queued, so a burst (a `flush ruleset` is one message per
// rule, chain and table) gives one wake-up and one verification.
//
// Lifetime: the socket (SOCK_CLOEXEC, non-blocking) lives as long as the monitor. Thread-safety:
// none; one loop reads it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace wgate::firewall {

struct NftChanges {
  // Something happened to a watched table (or events were lost): verify now.
  bool changed = false;
  // One line per kind of change, for the log: "NFT_MSG_DELTABLE inet wgate", "events lost
  // (ENOBUFS)..."; at most kMaxDescriptions (then "..."). `changed` says whether there were any.
  std::vector<std::string> descriptions;
  static constexpr size_t kMaxDescriptions = 8;
};

class NftMonitor {
 public:
  // Opens the socket in the calling thread's network namespace and joins NFNLGRP_NFTABLES
  // (needs CAP_NET_ADMIN). `tables`: "inet wgate", "inet wgate_owned". `ignore_portid`: the
  // netlink port id of the caller's own nftables socket, 0 for none.
  static Result<std::unique_ptr<NftMonitor>> Open(std::vector<std::string> tables,
                                                  uint32_t ignore_portid);

  int fd() const { return fd_.get(); }

  // Reads every queued event without blocking. An error only for a socket failure other than
  // ENOBUFS (which is reported as a change).
  Result<NftChanges> Read();

 private:
  NftMonitor(UniqueFd fd, std::vector<std::string> tables, uint32_t ignore_portid)
      : fd_(std::move(fd)), tables_(std::move(tables)), ignore_portid_(ignore_portid) {}

  UniqueFd fd_;
  std::vector<std::string> tables_;
  uint32_t ignore_portid_;
};

// Pure, for Read() and tests: what the netlink messages in `buf` (one datagram, `len` bytes)
// say about `tables`, appended to *out. Messages of other subsystems, of other tables, and
// those stamped with `ignore_portid` (unless 0) are skipped.
void ParseNftEvents(const uint8_t* buf, size_t len, const std::vector<std::string>& tables,
                    uint32_t ignore_portid, NftChanges* out);

// "inet", "ip", "ip6", "arp", "bridge", "netdev"; "family N" for others.
std::string NftFamilyName(uint8_t family);

}  // namespace wgate::firewall
