#include "firewall/kernel_probe.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <fstream>
#include <random>
#include <sstream>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "firewall/ruleset.h"

namespace wgate::firewall {
namespace {

constexpr long kCgroup2SuperMagic = 0x63677270;  // CGROUP2_SUPER_MAGIC, linux/magic.h
constexpr char kProbeInet[] = "inet wgate_probe";
constexpr char kProbeNetdev[] = "netdev wgate_probe";
constexpr uint16_t kDiscardPort = 9;

// Components of "/a/b/c" (3); 0 for "/".
int Depth(std::string_view path) {
  int depth = 0;
  for (std::string_view part : SplitTrimmed(path, '/')) depth += part.empty() ? 0 : 1;
  return depth;
}

// Sends one datagram marked `mark` to 127.0.0.1:9 from a socket of this process; true when the
// output hook dropped it (sendto fails with EPERM).
Result<bool> SendDropped(uint32_t mark) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno("firewall: cgroup probe: socket", errno);
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0)
    return Error::FromErrno("firewall: cgroup probe: setsockopt(SO_MARK)", errno);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(kDiscardPort);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const char byte = 0;
  if (::sendto(fd.get(), &byte, 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 1)
    return false;
  if (errno == EPERM) return true;
  return Error::FromErrno("firewall: cgroup probe: sendto 127.0.0.1:9", errno);
}

std::string ProbeScript(uint32_t mark, const std::string& path, int level) {
  return StrCat("add table ", kProbeInet, "\ndelete table ", kProbeInet, "\ntable ", kProbeInet,
                " {\n\tchain output {\n\t\ttype filter hook output priority -300; policy accept;\n",
                "\t\tmeta mark ", FormatMark(mark), " udp dport ", kDiscardPort,
                " socket cgroupv2 level ", level, " \"", path, "\" drop\n\t}\n}\n");
}

}  // namespace

Result<std::string> ParseCgroupV2Path(std::string_view text) {
  for (std::string_view line : SplitTrimmed(text, '\n')) {
    if (line.substr(0, 3) == "0::") return std::string(line.substr(3));
  }
  std::string shown(text.substr(0, 200));
  for (char& c : shown) {
    if (c == '\n') c = ' ';
  }
  return Error(StrCat("no cgroup v2 entry (\"0::\") in /proc/self/cgroup: \"", shown, "\""));
}

Result<OwnCgroup> ProbeOwnCgroup(NftBackend& nft, const std::string& mount,
                                 const std::string& proc_self_cgroup) {
  struct statfs fs;
  if (::statfs(mount.c_str(), &fs) != 0 || fs.f_type != kCgroup2SuperMagic) {
    return Error(StrCat("cgroup v2 is not mounted at ", mount,
                        " (a host with cgroup v1 or a hybrid layout)"));
  }
  std::ifstream in(proc_self_cgroup);
  std::stringstream text;
  text << in.rdbuf();
  auto path = ParseCgroupV2Path(text.str());
  if (!path.ok()) return path.error();
  if (Status s = ValidateCgroupPath(*path); !s.ok()) return s.error();
  // The hierarchy's root has no cgroup.type; every other cgroup (a container's, seen as "/"
  // inside its cgroup namespace, too) has one.
  struct stat st;
  const std::string dir = *path == "/" ? mount : StrCat(mount, *path);
  if (::stat(StrCat(dir, "/cgroup.type").c_str(), &st) != 0) {
    return Error(
        "wgate runs in the root of the cgroup v2 hierarchy, which every process shares: its "
        "sockets cannot be told from the consumers' by cgroup (run it in a container of its own)");
  }
  const std::string nft_path = *path == "/" ? "/" : path->substr(1);
  std::random_device rd;
  const uint32_t mark = (static_cast<uint32_t>(rd()) | 0x1000) & 0x7fffffff;
  // The path's depth is the level outside a cgroup namespace. Inside one, kernels since 6.12
  // count levels from the namespace's root (our "/" is level 0), older ones from the hierarchy's.
  std::vector<int> order;
  const int guess = Depth(*path);
  if (guess <= kMaxCgroupLevel) order.push_back(guess);
  for (int l = 0; l <= kMaxCgroupLevel; ++l) {
    if (l != guess) order.push_back(l);
  }
  Result<OwnCgroup> found = Error(StrCat("no cgroup level 0-", kMaxCgroupLevel, " matched \"",
                                         *path, "\" for this process's own socket"));
  for (int level : order) {
    if (Status s = nft.Run(ProbeScript(mark, nft_path, level)); !s.ok()) {
      found = Error("cgroup probe: " + s.error().message());
      break;
    }
    auto dropped = SendDropped(mark);
    if (!dropped.ok()) {
      found = dropped.error();
      break;
    }
    if (*dropped) {
      found = OwnCgroup{nft_path, level};
      break;
    }
  }
  (void)nft.Run(StrCat("add table ", kProbeInet, "\ndelete table ", kProbeInet, "\n"));
  return found;
}

Status ProbeEgressHook(NftBackend& nft, std::string_view device) {
  if (Status s = ValidateInterfaceName("uplink", device); !s.ok()) return s;
  return nft.Run(StrCat("add table ", kProbeNetdev, "\ndelete table ", kProbeNetdev, "\ntable ",
                        kProbeNetdev, " {\n\tchain egress {\n\t\ttype filter hook egress device \"",
                        device, "\" priority 0; policy accept;\n\t}\n}\ndelete table ",
                        kProbeNetdev, "\n"));
}

}  // namespace wgate::firewall
