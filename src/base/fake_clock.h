// FakeClock: a Clock that moves only when a test says so. Not thread-safe.
#pragma once

#include "base/clock.h"

namespace wgate {

class FakeClock final : public Clock {
 public:
  // Starts at an arbitrary non-zero point so that "time zero" bugs show up.
  FakeClock()
      : mono_(MonoTime{} + std::chrono::hours(1000)),
        wall_(WallTime{} + std::chrono::seconds(1'700'000'000)) {}

  MonoTime Now() const override { return mono_; }
  WallTime WallNow() const override { return wall_; }

  void Advance(Duration d) {
    mono_ += d;
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }

 private:
  MonoTime mono_;
  WallTime wall_;
};

}  // namespace wgate
