#include "dataplane/worker_pool.h"

namespace wgate::dataplane {

namespace {
// Below this many items waking a helper costs more than it saves.
constexpr size_t kMinParallel = 4;
}  // namespace

WorkerPool::WorkerPool(size_t helpers) {
  threads_.reserve(helpers);
  for (size_t i = 0; i < helpers; ++i) threads_.emplace_back([this] { HelperLoop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::Work() {
  for (;;) {
    const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= n_) return;
    call_(ctx_, i);
    done_.fetch_add(1, std::memory_order_release);
  }
}

void WorkerPool::HelperLoop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || (open_ && generation_ != seen); });
      if (stop_) return;
      seen = generation_;
      inside_.fetch_add(1, std::memory_order_relaxed);
    }
    Work();
    inside_.fetch_sub(1, std::memory_order_release);
  }
}

void WorkerPool::RunErased(size_t n, void* ctx, Call call) {
  std::unique_lock batch(batch_mu_, std::try_to_lock);
  if (threads_.empty() || n < kMinParallel || !batch.owns_lock()) {
    for (size_t i = 0; i < n; ++i) call(ctx, i);
    return;
  }
  {
    std::lock_guard lock(mu_);
    ctx_ = ctx;
    call_ = call;
    n_ = n;
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    ++generation_;
    open_ = true;
  }
  cv_.notify_all();
  Work();
  {
    // No helper joins after this; those inside finish their item and leave.
    std::lock_guard lock(mu_);
    open_ = false;
  }
  while (done_.load(std::memory_order_acquire) < n || inside_.load(std::memory_order_acquire) > 0) {
    std::this_thread::yield();
  }
}

}  // namespace wgate::dataplane
