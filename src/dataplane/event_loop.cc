#include "dataplane/event_loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>

#include "base/strings.h"

namespace wgate::dataplane {

Result<EventFd> EventFd::Create() {
  UniqueFd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd) return Error::FromErrno("eventfd", errno);
  return EventFd(std::move(fd));
}

void EventFd::Signal() const {
  uint64_t one = 1;
  // Cannot fail short of a counter overflow, which a nonblocking eventfd reports as EAGAIN:
  // then it is readable anyway.
  (void)!::write(fd_.get(), &one, sizeof(one));
}

void EventFd::Consume() const {
  uint64_t v;
  (void)!::read(fd_.get(), &v, sizeof(v));
}

Result<TimerFd> TimerFd::Create() {
  UniqueFd fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!fd) return Error::FromErrno("timerfd_create", errno);
  return TimerFd(std::move(fd));
}

void TimerFd::ArmAt(MonoTime deadline) const {
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  // An all-zero it_value disarms; a deadline at or before the epoch means "now".
  if (ns <= 0) ns = 1;
  itimerspec spec{};
  spec.it_value.tv_sec = ns / 1000000000;
  spec.it_value.tv_nsec = ns % 1000000000;
  WGATE_CHECK(::timerfd_settime(fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) == 0);
}

void TimerFd::Disarm() const {
  itimerspec spec{};
  WGATE_CHECK(::timerfd_settime(fd_.get(), 0, &spec, nullptr) == 0);
}

void TimerFd::Consume() const {
  uint64_t v;
  (void)!::read(fd_.get(), &v, sizeof(v));
}

Result<std::unique_ptr<EventLoop>> EventLoop::Create() {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return Error::FromErrno("epoll_create1", errno);
  auto wake = EventFd::Create();
  if (!wake.ok()) return std::move(wake).error();
  std::unique_ptr<EventLoop> loop(new EventLoop(std::move(epoll), std::move(*wake)));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = loop->wake_.fd();
  if (::epoll_ctl(loop->epoll_.get(), EPOLL_CTL_ADD, loop->wake_.fd(), &ev) < 0) {
    return Error::FromErrno("epoll_ctl ADD eventfd", errno);
  }
  return loop;
}

Status EventLoop::Add(int fd, Handler handler, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
    return Error::FromErrno(StrCat("epoll_ctl ADD fd ", fd), errno);
  }
  handlers_[fd] = std::make_shared<Handler>(std::move(handler));
  return Ok();
}

Status EventLoop::Remove(int fd) {
  handlers_.erase(fd);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) < 0) {
    return Error::FromErrno(StrCat("epoll_ctl DEL fd ", fd), errno);
  }
  return Ok();
}

Result<int> EventLoop::RunOnce(int timeout_ms) {
  std::array<epoll_event, 16> events;
  int n = ::epoll_wait(epoll_.get(), events.data(), events.size(), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    return Error::FromErrno("epoll_wait", errno);
  }
  int ran = 0;
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == wake_.fd()) {
      wake_.Consume();
      continue;
    }
    auto it = handlers_.find(fd);
    if (it == handlers_.end()) continue;  // removed by an earlier handler of this round
    // Holding a reference keeps the handler alive if it removes itself.
    std::shared_ptr<Handler> handler = it->second;
    (*handler)(events[i].events);
    ++ran;
  }
  return ran;
}

Status EventLoop::Run() {
  while (!stop_.load()) {
    auto r = RunOnce(-1);
    if (!r.ok()) return std::move(r).error();
  }
  return Ok();
}

void EventLoop::Stop() {
  stop_.store(true);
  wake_.Signal();
}

}  // namespace wgate::dataplane
