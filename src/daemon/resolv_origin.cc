#include "daemon/resolv_origin.h"

#include <algorithm>
#include <vector>

#include "base/log.h"
#include "base/strings.h"

namespace wgate::daemon {

namespace {

constexpr size_t kMaxCommentLength = 128;  // nft's limit
constexpr size_t kMaxLines = 16;

// The lines that make a resolv.conf what it is; comments and blank lines are not recorded.
bool Meaningful(std::string_view line) {
  for (std::string_view key : {"nameserver", "search", "domain", "options", "sortlist"}) {
    if (line.substr(0, key.size()) == key && line.size() > key.size() &&
        (line[key.size()] == ' ' || line[key.size()] == '\t')) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string OriginScript(std::string_view resolv_conf) {
  std::string script =
      StrCat("add table ", kOriginTable, "\ndelete table ", kOriginTable, "\ntable ", kOriginTable,
             " {\n\tcomment \"wgate: the namespace's original resolv.conf\"\n");
  size_t n = 0;
  for (std::string_view raw : SplitTrimmed(resolv_conf, '\n')) {
    std::string_view line = TrimSpace(raw);
    // A quote would end nft's string; a control character (a NUL ends the script early) has no
    // place in resolv.conf: such a line is not recorded.
    bool printable = std::all_of(line.begin(), line.end(), [](char c) {
      return c == '\t' || static_cast<unsigned char>(c) >= 0x20;
    });
    if (!Meaningful(line) || !printable || line.find('"') != std::string_view::npos ||
        n == kMaxLines) {
      continue;
    }
    if (line.size() > kMaxCommentLength) {
      line = line.substr(0, kMaxCommentLength);
      line = line.substr(0, line.find_last_of(" \t"));
    }
    // Two digits: chains are listed in creation order, but decoding sorts by name to be sure.
    script += StrCat("\tchain line", n / 10, n % 10, " {\n\t\tcomment \"", line, "\"\n\t}\n");
    ++n;
  }
  script += "}\n";
  return script;
}

std::string ParseOriginListing(std::string_view listing) {
  std::vector<std::pair<std::string, std::string>> lines;  // chain name, comment
  std::string chain;
  for (std::string_view raw : SplitTrimmed(listing, '\n')) {
    std::string_view line = TrimSpace(raw);
    if (line.substr(0, 6) == "chain ") {
      chain = std::string(TrimSpace(line.substr(6, line.find('{') - 6)));
    } else if (!chain.empty() && line.substr(0, 9) == "comment \"" && line.back() == '"') {
      lines.emplace_back(chain, std::string(line.substr(9, line.size() - 10)));
    } else if (line == "}") {
      chain.clear();
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const auto& [name, value] : lines) {
    if (Meaningful(value)) text += value + "\n";
  }
  return text;
}

Result<std::optional<std::string>> LoadResolvOrigin(firewall::NftBackend& nft) {
  auto listing = nft.ListTable(kOriginTable);
  if (!listing.ok()) return listing.error();
  if (!listing->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(ParseOriginListing(**listing));
}

Status SaveResolvOrigin(firewall::NftBackend& nft, std::string_view resolv_conf) {
  if (Status s = nft.Run(OriginScript(resolv_conf)); !s.ok()) {
    return s.error().Wrap(StrCat("recording the original resolv.conf in table ", kOriginTable));
  }
  return Ok();
}

void EstablishResolvOrigin(firewall::NftBackend& nft, ResolvConf& resolv) {
  auto recorded = LoadResolvOrigin(nft);
  if (!recorded.ok()) {
    LogWarn("cannot read the recorded original resolv.conf: " + recorded.error().message());
    return;
  }
  if (recorded->has_value()) {
    if (Status s = resolv.SetBackup(**recorded); !s.ok()) LogWarn(s.error().message());
    return;
  }
  std::optional<std::string> original = resolv.ReadBackup();
  if (!original) {
    std::string current = resolv.ReadCurrent();
    if (WrittenByWgate(current)) {
      LogWarn(
          "/etc/resolv.conf was written by an earlier wgate and no record of the original is "
          "left, so it is not taken for the original: a host-name Endpoint cannot be looked up "
          "and `unblock` leaves the file as it is");
      return;
    }
    original = current;
    if (Status s = resolv.SetBackup(current); !s.ok()) LogWarn(s.error().message());
  }
  if (Status s = SaveResolvOrigin(nft, *original); !s.ok()) LogWarn(s.error().message());
}

}  // namespace wgate::daemon
