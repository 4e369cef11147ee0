// WorkerPool: fork-join parallelism for one batch at a time. Run(n, fn) calls fn(i) for every i in
// [0, n) on the calling thread and the pool's helpers, and returns when all calls have returned,
// so the caller keeps the batch's order for everything it does before and after (this is how the
// engine encrypts and decrypts on all cores and still delivers each batch in order).
//
// Thread-safety: Run may be called from several threads; one batch uses the helpers at a time, a
// concurrent caller runs its batch on its own thread (it never waits for another pipeline).
// fn must not call Run. Never allocates after construction.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace wgate::dataplane {

class WorkerPool {
 public:
  // `helpers` threads besides the callers; 0 makes Run sequential.
  explicit WorkerPool(size_t helpers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t helpers() const { return threads_.size(); }

  template <typename Fn>
  void Run(size_t n, Fn& fn) {
    RunErased(n, &fn, [](void* ctx, size_t i) { (*static_cast<Fn*>(ctx))(i); });
  }

 private:
  using Call = void (*)(void* ctx, size_t i);
  void RunErased(size_t n, void* ctx, Call call);
  void HelperLoop();
  void Work();

  std::mutex batch_mu_;  // held by the caller whose batch owns the helpers

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;  // bumped for every batch handed to the helpers
  bool open_ = false;        // helpers may still join the current batch
  bool stop_ = false;
  void* ctx_ = nullptr;
  Call call_ = nullptr;
  size_t n_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> done_{0};
  std::atomic<int> inside_{0};  // helpers working on the current batch

  std::vector<std::thread> threads_;
};

}  // namespace wgate::dataplane
