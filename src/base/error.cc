#include "base/error.h"

#include <cstring>

namespace wgate {

Error Error::FromErrno(std::string_view what, int err) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  return Error(std::move(msg), err);
}

Error Error::Wrap(std::string_view context) const& {
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Error(std::move(msg), errno_);
}

void CheckFailed(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
  std::abort();
}

}  // namespace wgate
