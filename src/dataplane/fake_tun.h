// FakeTun: an in-memory TunDevice for tests. Inject() queues a packet as if the kernel routed it
// into the tunnel; Written() returns what the engine wrote to the tunnel. fd() is an eventfd that
// is readable while injected packets wait, so an epoll loop drives it like the real device.
//
// Thread-safe (one mutex); allocates freely (test code).
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "dataplane/tun.h"

namespace wgate::dataplane {

class FakeTun final : public TunDevice {
 public:
  explicit FakeTun(std::string name = "faketun")
      : name_(std::move(name)), event_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

  const std::string& name() const override { return name_; }
  int fd() const override { return event_.get(); }

  void Inject(std::vector<uint8_t> packet) {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(packet));
    uint64_t one = 1;
    (void)!::write(event_.get(), &one, sizeof(one));
  }

  Result<size_t> ReadBatch(std::span<Packet> packets) override {
    std::lock_guard lock(mu_);
    size_t n = 0;
    while (n < packets.size() && !inbox_.empty()) {
      std::vector<uint8_t>& p = inbox_.front();
      size_t len = std::min(p.size(), packets[n].capacity);
      std::memcpy(packets[n].data, p.data(), len);
      packets[n].size = len;
      inbox_.pop_front();
      ++n;
    }
    if (inbox_.empty()) {
      uint64_t v;
      (void)!::read(event_.get(), &v, sizeof(v));
    }
    return n;
  }

  Status WriteBatch(std::span<const Packet> packets, size_t* /*refused*/) override {
    std::lock_guard lock(mu_);
    for (const Packet& p : packets) written_.emplace_back(p.data, p.data + p.size);
    cv_.notify_all();
    return Ok();
  }

  // Waits until at least `count` packets were written (or `timeout`), then returns all of them.
  std::vector<std::vector<uint8_t>> WaitWritten(size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return written_.size() >= count; });
    return written_;
  }

 private:
  std::string name_;
  UniqueFd event_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<uint8_t>> inbox_;
  std::vector<std::vector<uint8_t>> written_;
};

}  // namespace wgate::dataplane
