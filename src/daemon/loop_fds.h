// File descriptors the daemons' poll loops wait on: periodic timers and signals as events.
// Shared by `wgate run` and `wgate hold`.
#pragma once

#include <chrono>
#include <initializer_list>

#include "base/unique_fd.h"

namespace wgate::daemon {

// A CLOCK_MONOTONIC timerfd (non-blocking) that fires after `first`, then every `interval`
// (zero: once).
UniqueFd MakeTimer(std::chrono::milliseconds first, std::chrono::milliseconds interval);

// Reads a non-blocking fd (timerfd, inotify, eventfd) until it would block.
void Drain(int fd);

// Blocks `signals` for the calling thread and returns a non-blocking signalfd that reports them:
// their default actions (termination) would skip the orderly stop. SIGPIPE is ignored.
UniqueFd BlockSignalsToFd(std::initializer_list<int> signals);

}  // namespace wgate::daemon
