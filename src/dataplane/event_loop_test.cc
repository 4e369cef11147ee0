#include "dataplane/event_loop.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <chrono>
#include <thread>

#include "dataplane/fake_tun.h"

namespace wgate::dataplane {
namespace {

using namespace std::chrono_literals;

TEST(EventLoopTest, EventFdWakesItsHandler) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok()) << loop.error().message();
  auto ev = EventFd::Create();
  ASSERT_TRUE(ev.ok());
  int calls = 0;
  ASSERT_TRUE((*loop)
                  ->Add(ev->fd(),
                        [&](uint32_t events) {
                          EXPECT_TRUE(events & EPOLLIN);
                          ev->Consume();
                          ++calls;
                        })
                  .ok());
  EXPECT_EQ(*(*loop)->RunOnce(0), 0);
  ev->Signal();
  ev->Signal();
  EXPECT_EQ(*(*loop)->RunOnce(1000), 1);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(*(*loop)->RunOnce(0), 0);  // consumed: level-triggered but no longer readable
}

TEST(EventLoopTest, TimerFiresAtItsDeadlineNotBefore) {
  auto loop = EventLoop::Create();
  auto timer = TimerFd::Create();
  ASSERT_TRUE(loop.ok() && timer.ok());
  MonoTime fired{};
  ASSERT_TRUE((*loop)
                  ->Add(timer->fd(),
                        [&](uint32_t) {
                          timer->Consume();
                          fired = std::chrono::steady_clock::now();
                        })
                  .ok());
  const MonoTime deadline = std::chrono::steady_clock::now() + 50ms;
  timer->ArmAt(deadline);
  while (fired == MonoTime{}) ASSERT_TRUE((*loop)->RunOnce(1000).ok());
  EXPECT_GE(fired, deadline);
  EXPECT_LT(fired, deadline + 1s);

  timer->ArmAt(std::chrono::steady_clock::now() + 20ms);
  timer->Disarm();
  EXPECT_EQ(*(*loop)->RunOnce(100), 0);
}

TEST(EventLoopTest, PastDeadlineFiresImmediately) {
  auto loop = EventLoop::Create();
  auto timer = TimerFd::Create();
  ASSERT_TRUE(loop.ok() && timer.ok());
  bool fired = false;
  ASSERT_TRUE((*loop)
                  ->Add(timer->fd(),
                        [&](uint32_t) {
                          timer->Consume();
                          fired = true;
                        })
                  .ok());
  timer->ArmAt(MonoTime{});
  EXPECT_EQ(*(*loop)->RunOnce(1000), 1);
  EXPECT_TRUE(fired);
}

TEST(EventLoopTest, StopFromAnotherThreadEndsRun) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    (*loop)->Stop();
  });
  EXPECT_TRUE((*loop)->Run().ok());
  EXPECT_TRUE((*loop)->stopped());
  stopper.join();
}

TEST(EventLoopTest, HandlerMayRemoveItself) {
  auto loop = EventLoop::Create();
  auto ev = EventFd::Create();
  ASSERT_TRUE(loop.ok() && ev.ok());
  int calls = 0;
  EventLoop* l = loop->get();
  ASSERT_TRUE(l->Add(ev->fd(), [&](uint32_t) {
                 ++calls;
                 EXPECT_TRUE(l->Remove(ev->fd()).ok());
               }).ok());
  ev->Signal();
  EXPECT_EQ(*l->RunOnce(1000), 1);
  EXPECT_EQ(*l->RunOnce(0), 0);  // still readable, but no longer watched
  EXPECT_EQ(calls, 1);
}

TEST(FakeTunTest, ReadableWhilePacketsWaitAndBatchesThem) {
  FakeTun tun;
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  BufferPool pool(4);
  std::array<Packet, 4> batch;
  size_t got = 0;
  ASSERT_TRUE((*loop)
                  ->Add(tun.fd(),
                        [&](uint32_t) {
                          pool.Attach(batch, kHeadroom);
                          got += *tun.ReadBatch(batch);
                        })
                  .ok());
  EXPECT_EQ(*(*loop)->RunOnce(0), 0);
  for (uint8_t i = 0; i < 6; ++i) tun.Inject({0x45, i});
  EXPECT_EQ(*(*loop)->RunOnce(1000), 1);
  EXPECT_EQ(got, 4u);
  EXPECT_EQ(batch[3].size, 2u);
  EXPECT_EQ(batch[3].data[1], 3);
  EXPECT_EQ(*(*loop)->RunOnce(1000), 1);
  EXPECT_EQ(got, 6u);
  EXPECT_EQ(*(*loop)->RunOnce(0), 0);
}

}  // namespace
}  // namespace wgate::dataplane
