// /etc/resolv.conf, managed in place.
//
// Docker and podman bind-mount the file into the container, so it can only be rewritten in place
// (open + truncate + write), never replaced by rename. The original is saved once to a backup
// file; a backup left by a crashed run is kept, since it, not the current file, holds the
// container's own resolvers.
//
// Thread-safety: none; the daemon's main thread owns it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/ip.h"

namespace wgate::daemon {

inline constexpr char kResolvConfPath[] = "/etc/resolv.conf";
inline constexpr char kResolvConfBackupPath[] = "/run/wgate/resolv.conf.orig";

// kResolvConfBackupPath made unique per network namespace
// (/run/wgate/resolv-net4026532281.conf.orig): test gateways in several namespaces of one host
// share /run.
std::string ResolvBackupPath();

// The first line of every resolv.conf wgate writes: such a file is never an original.
inline constexpr std::string_view kWrittenByWgate = "# Written by wgate:";
bool WrittenByWgate(std::string_view resolv_conf);

class ResolvConf {
 public:
  ResolvConf(std::string path, std::string backup_path)
      : path_(std::move(path)), backup_path_(std::move(backup_path)) {}

  // The resolvers the container started with, from the backup; none without one (the file as it
  // is now is not the original: consumers can write it).
  std::vector<IpAddress> OriginalNameservers() const;

  // The file as it is now ("" when absent).
  std::string ReadCurrent() const;
  // The backup's text, nullopt when there is none.
  std::optional<std::string> ReadBackup() const;
  // Makes `original` the backup (the namespace's recorded origin); an existing backup stays.
  Status SetBackup(const std::string& original);

  // Saves the original (unless a backup exists, or the file is already a wgate rewrite) and
  // writes `servers` and `search` in place.
  Status Apply(const std::vector<IpAddress>& servers, const std::vector<std::string>& search);

  // Writes the backup back in place and deletes it. Succeeds when there is no backup.
  Status Restore();

  bool HasBackup() const;

 private:
  std::string path_;
  std::string backup_path_;
};

// The `nameserver` addresses of resolv.conf text.
std::vector<IpAddress> ParseNameservers(const std::string& text);

}  // namespace wgate::daemon
