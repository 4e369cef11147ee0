// Error and Result<T>: the one error currency of every layer's API.
//
// An Error is a human-readable message that already names the operation and the object
// ("RTM_NEWROUTE 0.0.0.0/0 dev wg0: File exists", "wg0.conf:3: ..."), plus the errno when a
// syscall failed. Nothing throws across a layer boundary; invariant violations abort (WGATE_CHECK).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wgate {

class Error {
 public:
  explicit Error(std::string message, int sys_errno = 0)
      : message_(std::move(message)), errno_(sys_errno) {}

  // "what: strerror(err)"; `what` names the syscall and the object it acted on.
  static Error FromErrno(std::string_view what, int err);

  const std::string& message() const { return message_; }
  // The errno of the failed syscall, 0 when the error did not come from one.
  int sys_errno() const { return errno_; }

  // Prefixes context: Error("File exists").Wrap("RTM_NEWROUTE 0.0.0.0/0") -> "RTM_NEWROUTE ...:
  // File exists".
  Error Wrap(std::string_view context) const&;

 private:
  std::string message_;
  int errno_;
};

// Result<T> holds a T or an Error. Result<void> holds nothing or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{""};
  bool ok_ = true;
};

using Status = Result<void>;
inline Status Ok() { return Status(); }

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr);

}  // namespace wgate

// Aborts with file:line and the expression when an invariant does not hold. Always on.
#define WGATE_CHECK(cond) ((cond) ? (void)0 : ::wgate::CheckFailed(__FILE__, __LINE__, #cond))
