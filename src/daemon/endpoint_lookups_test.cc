#include "daemon/endpoint_lookups.h"

#include <gtest/gtest.h>

#include "base/fake_clock.h"

namespace wgate::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SocketAddress kAddr = *SocketAddress::Parse("203.0.113.9:51820");

TEST(EndpointLookupsTest, ANewTextIsLookedUpAtOnceAndTheSameTextReusesTheAddress) {
  FakeClock clock;
  EndpointLookups lookups(&clock, [] { return 0.0; });
  EXPECT_FALSE(lookups.Cached("vpn.example:51820"));
  EXPECT_EQ(lookups.WaitBeforeLookup("vpn.example:51820"), Duration::zero());
  lookups.Succeeded("vpn.example:51820", kAddr);
  clock.Advance(std::chrono::hours(24));  // no expiry: only a new text looks up again
  ASSERT_TRUE(lookups.Cached("vpn.example:51820"));
  EXPECT_EQ(*lookups.Cached("vpn.example:51820"), kAddr);
  EXPECT_FALSE(lookups.Cached("vpn.example:51821")) << "the port is part of the text";
  EXPECT_FALSE(lookups.Cached("other.example:51820"));
  EXPECT_EQ(lookups.WaitBeforeLookup("other.example:51820"), Duration::zero());
}

TEST(EndpointLookupsTest, FailuresBackOffDoublingFromOneSecondToSixty) {
  FakeClock clock;
  EndpointLookups lookups(&clock, [] { return 0.999999; });  // the longest jitter: ~nominal
  std::vector<int> waited;
  for (int i = 0; i < 9; ++i) {
    lookups.Failed("vpn.example:51820", "timed out");
    Duration wait = lookups.WaitBeforeLookup("vpn.example:51820");
    waited.push_back(static_cast<int>(std::chrono::duration_cast<milliseconds>(wait).count()));
    clock.Advance(wait);
    EXPECT_EQ(lookups.WaitBeforeLookup("vpn.example:51820"), Duration::zero());
  }
  EXPECT_EQ(waited, (std::vector<int>{999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999}));
  EXPECT_EQ(lookups.LastError("vpn.example:51820"), "timed out");
}

TEST(EndpointLookupsTest, JitterShortensTheWaitByAtMostATenth) {
  FakeClock clock;
  EndpointLookups lookups(&clock, [] { return 0.0; });
  lookups.Failed("vpn.example:51820", "timed out");
  lookups.Failed("vpn.example:51820", "timed out");
  lookups.Failed("vpn.example:51820", "timed out");
  EXPECT_EQ(lookups.WaitBeforeLookup("vpn.example:51820"), milliseconds(3600));  // 4 s * 0.9
  clock.Advance(milliseconds(3599));
  EXPECT_EQ(lookups.WaitBeforeLookup("vpn.example:51820"), milliseconds(1));
}

TEST(EndpointLookupsTest, RandomJitterStaysInItsRange) {
  for (int i = 0; i < 1000; ++i) {
    double j = EndpointLookups::RandomJitter();
    ASSERT_GE(j, 0.0);
    ASSERT_LT(j, 1.0);
  }
}

TEST(EndpointLookupsTest, ANewTextOrASuccessStartsTheBackoffAfresh) {
  FakeClock clock;
  EndpointLookups lookups(&clock, [] { return 0.0; });
  for (int i = 0; i < 5; ++i) lookups.Failed("old.example:51820", "SERVFAIL");
  EXPECT_GT(lookups.WaitBeforeLookup("old.example:51820"), seconds(10));
  // The user fixed the name: it is tried at once, and its first failure waits ~1 s, not 32.
  EXPECT_EQ(lookups.WaitBeforeLookup("new.example:51820"), Duration::zero());
  lookups.Failed("new.example:51820", "NXDOMAIN");
  EXPECT_EQ(lookups.WaitBeforeLookup("new.example:51820"), milliseconds(900));
  EXPECT_EQ(lookups.LastError("old.example:51820"), "");
  clock.Advance(seconds(1));
  lookups.Succeeded("new.example:51820", kAddr);
  EXPECT_EQ(lookups.LastError("new.example:51820"), "");
  lookups.Failed("new.example:51820", "timed out");
  EXPECT_EQ(lookups.WaitBeforeLookup("new.example:51820"), milliseconds(900));
  EXPECT_TRUE(lookups.Cached("new.example:51820")) << "the last good address stays usable";
}

}  // namespace
}  // namespace wgate::daemon
