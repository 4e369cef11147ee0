// EventLoop: epoll plus the two wake-up sources the engine needs, a timerfd for the protocol's
// timers (armed at an absolute CLOCK_MONOTONIC deadline, the clock std::chrono::steady_clock
// reads) and an eventfd for wake-ups from other threads.
//
// Thread-safety: Add/Remove/Run/RunOnce belong to the loop's thread. Stop() and EventFd::Signal()
// may be called from any thread. Handlers run on the loop's thread and may Add/Remove fds.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "base/clock.h"
#include "base/error.h"
#include "base/unique_fd.h"

namespace wgate::dataplane {

// A counter fd: Signal() from any thread makes it readable; Consume() resets it.
class EventFd {
 public:
  static Result<EventFd> Create();
  int fd() const { return fd_.get(); }
  void Signal() const;
  void Consume() const;

 private:
  explicit EventFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// A one-shot timer on CLOCK_MONOTONIC.
class TimerFd {
 public:
  static Result<TimerFd> Create();
  int fd() const { return fd_.get(); }
  // Fires at `deadline` (immediately if it is past); replaces any earlier arming.
  void ArmAt(MonoTime deadline) const;
  void Disarm() const;
  void Consume() const;

 private:
  explicit TimerFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

class EventLoop {
 public:
  // Called with the ready epoll events (EPOLLIN, EPOLLERR...).
  using Handler = std::function<void(uint32_t events)>;

  static Result<std::unique_ptr<EventLoop>> Create();

  // Watches `fd` (not owned) for `events` (EPOLLIN by default). The handler is stored once; the
  // dispatch itself never allocates.
  Status Add(int fd, Handler handler, uint32_t events = 0x001 /* EPOLLIN */);
  Status Remove(int fd);

  // Waits up to timeout_ms (-1: forever) and runs the handlers of ready fds. Returns how many ran.
  Result<int> RunOnce(int timeout_ms);
  // RunOnce until Stop().
  Status Run();
  // Makes Run() return after the current iteration. Any thread.
  void Stop();
  bool stopped() const { return stop_.load(); }

 private:
  EventLoop(UniqueFd epoll, EventFd wake) : epoll_(std::move(epoll)), wake_(std::move(wake)) {}
  UniqueFd epoll_;
  EventFd wake_;
  std::atomic<bool> stop_{false};
  std::map<int, std::shared_ptr<Handler>> handlers_;
};

}  // namespace wgate::dataplane
