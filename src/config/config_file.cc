#include "config/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "crypto/keys.h"

namespace wgate::config {

ParseResult LoadWgQuickFile(const std::string& path) {
  ParseResult failed;
  auto fail = [&](std::string message) {
    failed.diagnostics.Error(path, 0, std::move(message));
    return failed;
  };
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) return fail("no such file");
    return fail(StrCat("cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail(StrCat("cannot stat: ", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) return fail("is a directory, not a config file");
  if (!S_ISREG(st.st_mode)) return fail("is not a regular file");
  if (static_cast<size_t>(st.st_size) > kMaxConfigBytes) {
    return fail(StrCat("is ", st.st_size, " bytes; a config is at most ", kMaxConfigBytes));
  }
  std::string text;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(StrCat("cannot read: ", std::strerror(errno)));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxConfigBytes)
      return fail(StrCat("is larger than ", kMaxConfigBytes, " bytes"));
  }
  ParseResult result = ParseWgQuick(text, path);
  std::fill(text.begin(), text.end(), '\0');  // held the private key
  if (st.st_mode & 0007) {
    Diagnostics with_warning;
    with_warning.Warning(path, 0, "is world accessible (it holds a private key; chmod 600 it)");
    with_warning.Append(result.diagnostics);
    result.diagnostics = std::move(with_warning);
  }
  return result;
}

Result<std::string> ReadSecretFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return Error(std::strerror(errno), errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error(std::strerror(errno), errno);
  if (S_ISDIR(st.st_mode)) return Error(std::strerror(EISDIR), EISDIR);
  std::string text;
  char buf[4096];
  auto fail = [&](Error e) {
    crypto::SecureZero(buf, sizeof buf);
    crypto::SecureZero(text.data(), text.size());
    return e;
  };
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error(std::strerror(errno), errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxSecretBytes) {
      return fail(Error(StrCat("is larger than ", kMaxSecretBytes, " bytes")));
    }
  }
  crypto::SecureZero(buf, sizeof buf);
  return text;
}

bool IsValidInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '=' || c == '+' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> InterfaceNameFromPath(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  constexpr std::string_view kSuffix = ".conf";
  if (base.size() <= kSuffix.size() || base.substr(base.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  base.remove_suffix(kSuffix.size());
  if (!IsValidInterfaceName(base)) return std::nullopt;
  return std::string(base);
}

Result<std::string> ChooseInterfaceName(const std::optional<std::string>& setting,
                                        std::string_view config_path) {
  if (setting) {
    if (!IsValidInterfaceName(*setting)) {
      return Error(StrCat("WGATE_INTERFACE: \"", *setting, "\" ", kNotAnInterfaceName));
    }
    return *setting;
  }
  return InterfaceNameFromPath(config_path).value_or("wg0");
}

}  // namespace wgate::config
