#include "daemon/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.h"

namespace wgate::daemon {

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open " + path, errno);
  std::string text;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + path, errno);
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

Status WriteFileInPlace(const std::string& path, const std::string& text, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return Error::FromErrno("open " + path + " for writing", errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("write " + path, errno);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return Error::FromErrno("fsync " + path, errno);
  return Ok();
}

Status EnsureParentDir(const std::string& path, mode_t mode) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return Ok();
  std::string dir = path.substr(0, slash);
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
    return Error::FromErrno("mkdir " + dir, errno);
  return Ok();
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<uint64_t> NetnsInode() {
  struct stat st;
  if (::stat("/proc/thread-self/ns/net", &st) != 0)
    return Error::FromErrno("stat /proc/thread-self/ns/net", errno);
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace wgate::daemon
