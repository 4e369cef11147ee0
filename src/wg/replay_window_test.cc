#include "wg/replay_window.h"

#include <gtest/gtest.h>

#include "wg/constants.h"

namespace wgate::wg {
namespace {

constexpr uint64_t kLimit = kRejectAfterMessages;
constexpr uint64_t kWindow = ReplayWindow::kWindowSize;

TEST(ReplayWindowTest, WindowIs8128LikeTheReferences) { EXPECT_EQ(kWindow, 8128u); }

TEST(ReplayWindowTest, AcceptsInOrder) {
  ReplayWindow w;
  for (uint64_t i = 0; i < 3 * kWindow; ++i) ASSERT_TRUE(w.Accept(i, kLimit)) << i;
  EXPECT_EQ(w.highest(), 3 * kWindow - 1);
}

TEST(ReplayWindowTest, RefusesDuplicates) {
  ReplayWindow w;
  EXPECT_TRUE(w.Accept(0, kLimit));
  EXPECT_FALSE(w.Accept(0, kLimit));
  EXPECT_TRUE(w.Accept(7, kLimit));
  EXPECT_FALSE(w.Check(7, kLimit));
  EXPECT_FALSE(w.Accept(7, kLimit));
  EXPECT_TRUE(w.Accept(3, kLimit));
  EXPECT_FALSE(w.Accept(3, kLimit));
}

TEST(ReplayWindowTest, AcceptsReorderedWithinWindowOnce) {
  ReplayWindow w;
  ASSERT_TRUE(w.Accept(kWindow + 100, kLimit));
  // Everything down to highest - kWindow is still inside the window.
  for (uint64_t i = 100; i < kWindow + 100; i += 37) {
    EXPECT_TRUE(w.Accept(i, kLimit)) << i;
    EXPECT_FALSE(w.Accept(i, kLimit)) << i;
  }
  EXPECT_TRUE(w.Accept(kWindow + 50, kLimit));
}

TEST(ReplayWindowTest, RefusesTooOld) {
  ReplayWindow w;
  ASSERT_TRUE(w.Accept(kWindow + 100, kLimit));
  EXPECT_TRUE(w.Check(100, kLimit));  // exactly kWindow behind: still inside
  EXPECT_FALSE(w.Check(99, kLimit));  // one more: outside
  EXPECT_FALSE(w.Accept(99, kLimit));
  EXPECT_FALSE(w.Accept(0, kLimit));
}

TEST(ReplayWindowTest, CheckDoesNotModify) {
  ReplayWindow w;
  EXPECT_TRUE(w.Check(5, kLimit));
  EXPECT_TRUE(w.Check(5, kLimit));
  EXPECT_EQ(w.highest(), 0u);
  EXPECT_TRUE(w.Accept(5, kLimit));
}

TEST(ReplayWindowTest, RefusesAtAndBeyondLimit) {
  ReplayWindow w;
  EXPECT_FALSE(w.Accept(kLimit, kLimit));
  EXPECT_FALSE(w.Accept(~uint64_t{0}, kLimit));
  EXPECT_TRUE(w.Accept(kLimit - 1, kLimit));
  EXPECT_FALSE(w.Accept(kLimit - 1, kLimit));
  EXPECT_EQ(w.highest(), kLimit - 1);
}

TEST(ReplayWindowTest, WorksAtTheTopOfThe64BitRange) {
  ReplayWindow w;
  const uint64_t top = ~uint64_t{0};
  const uint64_t limit = top;  // everything below 2^64 - 1
  ASSERT_TRUE(w.Accept(top - 1, limit));
  EXPECT_TRUE(w.Accept(top - 1 - kWindow, limit));
  EXPECT_FALSE(w.Accept(top - 2 - kWindow, limit));
  EXPECT_TRUE(w.Accept(top - 2, limit));
  EXPECT_FALSE(w.Accept(top - 2, limit));
  EXPECT_FALSE(w.Accept(top, limit));
}

TEST(ReplayWindowTest, ClearsBitsAcrossTheRingWrap) {
  ReplayWindow w;
  // Fill the whole first ring, then move forward block by block past the wrap: counters that
  // map to the same bits one ring later must be accepted (their block was cleared).
  for (uint64_t i = 0; i < 128 * 64; ++i) ASSERT_TRUE(w.Accept(i, kLimit));
  for (uint64_t i = 128 * 64; i < 3 * 128 * 64; i += 64) {
    ASSERT_TRUE(w.Accept(i + 5, kLimit)) << i;
    ASSERT_TRUE(w.Accept(i, kLimit)) << i;
    ASSERT_FALSE(w.Accept(i, kLimit)) << i;
    // The same ring slot one full ring back is outside the window.
    ASSERT_FALSE(w.Accept(i - 128 * 64, kLimit)) << i;
  }
}

TEST(ReplayWindowTest, LargeJumpClearsEverything) {
  ReplayWindow w;
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(w.Accept(i, kLimit));
  const uint64_t far = 1'000'000'000;
  ASSERT_TRUE(w.Accept(far, kLimit));
  // Bits set before the jump must not make in-window counters look like duplicates.
  for (uint64_t i = far - kWindow; i < far; i += 61) EXPECT_TRUE(w.Accept(i, kLimit)) << i;
  EXPECT_FALSE(w.Accept(999, kLimit));
}

TEST(ReplayWindowTest, ResetForgets) {
  ReplayWindow w;
  ASSERT_TRUE(w.Accept(42, kLimit));
  w.Reset();
  EXPECT_TRUE(w.Accept(42, kLimit));
}

}  // namespace
}  // namespace wgate::wg
