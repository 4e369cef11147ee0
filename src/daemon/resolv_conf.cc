#include "daemon/resolv_conf.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/strings.h"
#include "daemon/file_util.h"

namespace wgate::daemon {

std::vector<IpAddress> ParseNameservers(const std::string& text) {
  std::vector<IpAddress> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = TrimSpace(std::string_view(text).substr(start, nl - start));
    start = nl == std::string::npos ? text.size() : nl + 1;
    constexpr std::string_view kKey = "nameserver";
    if (line.substr(0, kKey.size()) != kKey || line.size() == kKey.size() ||
        (line[kKey.size()] != ' ' && line[kKey.size()] != '\t')) {
      continue;
    }
    std::string_view value = TrimSpace(line.substr(kKey.size()));
    value = value.substr(0, value.find_first_of(" \t#;"));
    if (auto ip = IpAddress::Parse(value.substr(0, value.find('%')))) out.push_back(*ip);
  }
  return out;
}

std::string ResolvBackupPath() {
  Result<uint64_t> ino = NetnsInode();
  if (!ino.ok()) return kResolvConfBackupPath;
  return StrCat("/run/wgate/resolv-net", *ino, ".conf.orig");
}

bool WrittenByWgate(std::string_view resolv_conf) {
  return resolv_conf.substr(0, kWrittenByWgate.size()) == kWrittenByWgate;
}

bool ResolvConf::HasBackup() const { return FileExists(backup_path_); }

std::string ResolvConf::ReadCurrent() const {
  auto text = ReadFile(path_);
  return text.ok() ? *text : std::string();
}

std::optional<std::string> ResolvConf::ReadBackup() const {
  if (!HasBackup()) return std::nullopt;
  auto text = ReadFile(backup_path_);
  if (!text.ok()) return std::nullopt;
  return *text;
}

Status ResolvConf::SetBackup(const std::string& original) {
  if (HasBackup()) return Ok();
  if (Status s = EnsureParentDir(backup_path_); !s.ok()) return s;
  return WriteFileInPlace(backup_path_, original, 0600);
}

std::vector<IpAddress> ResolvConf::OriginalNameservers() const {
  // Never the file as it is now: consumers share it and may have written it since.
  if (std::optional<std::string> backup = ReadBackup()) return ParseNameservers(*backup);
  return {};
}

Status ResolvConf::Apply(const std::vector<IpAddress>& servers,
                         const std::vector<std::string>& search) {
  if (!HasBackup()) {
    // A container without resolv.conf is fine: restoring then writes an empty file. A file an
    // earlier wgate wrote is no original (a recreated gateway sharing the holder's file): with
    // no record of the original, nothing is backed up, and `unblock` leaves the file as it is.
    std::string original = ReadCurrent();
    if (!WrittenByWgate(original)) {
      if (Status s = SetBackup(original); !s.ok()) return s;
    }
  }
  std::string text = std::string(kWrittenByWgate) +
                     " DNS goes through the WireGuard tunnel.\n"
                     "# `wgate down --unblock` restores the original.\n";
  for (const IpAddress& s : servers) text += "nameserver " + s.ToString() + "\n";
  if (!search.empty()) {
    text += "search";
    for (const std::string& d : search) text += " " + d;
    text += "\n";
  }
  return WriteFileInPlace(path_, text);
}

Status ResolvConf::Restore() {
  if (!HasBackup()) return Ok();
  auto original = ReadFile(backup_path_);
  if (!original.ok()) return original.error();
  if (Status s = WriteFileInPlace(path_, *original); !s.ok()) return s;
  if (::unlink(backup_path_.c_str()) != 0 && errno != ENOENT) {
    return Error::FromErrno("unlink " + backup_path_, errno);
  }
  return Ok();
}

}  // namespace wgate::daemon
