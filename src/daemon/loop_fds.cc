#include "daemon/loop_fds.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace wgate::daemon {

UniqueFd MakeTimer(std::chrono::milliseconds first, std::chrono::milliseconds interval) {
  UniqueFd fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  itimerspec spec{};
  spec.it_value.tv_sec = first.count() / 1000;
  spec.it_value.tv_nsec = (first.count() % 1000) * 1000000 + 1;  // never 0: that disarms
  spec.it_interval.tv_sec = interval.count() / 1000;
  spec.it_interval.tv_nsec = (interval.count() % 1000) * 1000000;
  ::timerfd_settime(fd.get(), 0, &spec, nullptr);
  return fd;
}

void Drain(int fd) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

UniqueFd BlockSignalsToFd(std::initializer_list<int> signals) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : signals) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return UniqueFd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
}

}  // namespace wgate::daemon
