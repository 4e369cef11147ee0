#include "firewall/nftables_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <set>

#include "base/strings.h"
#include "base/unique_fd.h"

namespace wgate::firewall {
namespace {

// nft points at the offending token with a line of carets; in a one-line log message it is noise.
std::string OneLine(std::string_view text) {
  std::string out;
  for (std::string_view line : SplitTrimmed(text, '\n')) {
    if (line.empty() || line.find_first_not_of("^ ~") == std::string_view::npos) continue;
    if (!out.empty()) out += " | ";
    out += line;
  }
  return out;
}

std::set<int> OpenFds() {
  std::set<int> fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d)) {
      // Not the directory's own fd: closed below, its number is free for nft_ctx_new().
      if (e->d_name[0] != '.' && std::atoi(e->d_name) != ::dirfd(d)) {
        fds.insert(std::atoi(e->d_name));
      }
    }
    ::closedir(d);
  }
  return fds;
}

// Makes every fd that nft_ctx_new() opened (`before`: the fds open before it) close-on-exec,
// and returns the port id of its NETLINK_NETFILTER socket, bound now (an unbound netlink socket
// gets its port id only at its first send) so that it is known from the start; 0 if not found.
uint32_t AdoptLibraryFds(const std::set<int>& before) {
  uint32_t portid = 0;
  for (int fd : OpenFds()) {
    if (before.count(fd) > 0) continue;
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0) continue;
    ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    int protocol = -1;
    socklen_t len = sizeof protocol;
    if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0 ||
        protocol != NETLINK_NETFILTER) {
      continue;
    }
    sockaddr_nl addr{};
    len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        addr.nl_family != AF_NETLINK) {
      continue;
    }
    if (addr.nl_pid == 0) {
      sockaddr_nl any{};
      any.nl_family = AF_NETLINK;
      (void)::bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any);  // autobind
      len = sizeof addr;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) continue;
    }
    portid = addr.nl_pid;
  }
  return portid;
}

}  // namespace

Result<std::unique_ptr<NftablesBackend>> NftablesBackend::Create() {
  // libnftables calls exit() when it cannot open its netlink socket; ask the kernel first, so
  // that the caller gets an error and can fall back instead of the daemon vanishing.
  UniqueFd probe(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
  if (!probe) return Error::FromErrno("firewall: socket(AF_NETLINK, NETLINK_NETFILTER)", errno);
  probe.reset();

  const std::set<int> before = OpenFds();
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) return Error("firewall: nft_ctx_new failed");
  const uint32_t portid = AdoptLibraryFds(before);
  if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
    nft_ctx_free(ctx);
    return Error("firewall: cannot buffer libnftables output");
  }
  // Counter and quota values and the elements of dynamic sets change with traffic; the verifier
  // compares listings as text.
  nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_STATELESS | NFT_CTX_OUTPUT_TERSE);
  return std::unique_ptr<NftablesBackend>(new NftablesBackend(ctx, portid));
}

NftablesBackend::~NftablesBackend() { nft_ctx_free(ctx_); }

Status NftablesBackend::Execute(std::string_view commands, std::string* output) {
  const std::string buffer(commands);  // libnftables wants a NUL-terminated string
  errno = 0;
  const int rc = nft_run_cmd_from_buffer(ctx_, buffer.c_str());
  const int err = errno;
  const std::string out = nft_ctx_get_output_buffer(ctx_);
  const std::string error_text = OneLine(nft_ctx_get_error_buffer(ctx_));
  if (rc != 0) {
    if (!error_text.empty()) return Error(StrCat("nft: ", error_text), err);
    return Error::FromErrno("nft", err != 0 ? err : EIO);
  }
  if (output != nullptr) *output = out;
  return Ok();
}

Status NftablesBackend::Run(std::string_view script) { return Execute(script, nullptr); }

Result<std::optional<std::string>> NftablesBackend::ListTable(std::string_view table) {
  std::string listing;
  Status listed = Execute(StrCat("list table ", table), &listing);
  if (listed) return std::optional<std::string>(std::move(listing));
  // Tell "no such table" from a failure without parsing nft's (localised) error text: ask which
  // tables exist.
  std::string tables;
  if (!Execute("list tables", &tables)) return listed.error();
  const std::string wanted = StrCat("table ", table);
  for (std::string_view line : SplitTrimmed(tables, '\n')) {
    if (line == wanted) return listed.error();  // it exists, yet listing it failed
  }
  return std::optional<std::string>();
}

}  // namespace wgate::firewall
