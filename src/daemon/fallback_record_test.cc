#include "daemon/fallback_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/temp_dir.h"
#include "daemon/file_util.h"
#include "netlink/test_values.h"

namespace wgate::daemon {
namespace {

using netlink::test_values::A;
using netlink::test_values::P;
using ::testing::HasSubstr;

FallbackRecord Sample() {
  FallbackRecord record;
  record.ipv6_disabled_by_wgate = true;
  ShutLink eth0{"eth0", {P("192.0.2.2/24"), P("fd00::2/64")}, {}};
  netlink::Route def;
  def.dst = P("0.0.0.0/0");
  def.dev = "eth0";
  def.gateway = A("192.0.2.1");
  def.metric = 100;
  def.protocol = 3;  // RTPROT_BOOT
  eth0.routes.push_back(def);
  netlink::Route lan;
  lan.dst = P("198.51.100.0/24");
  lan.dev = "eth0";
  lan.table = 100;
  lan.prefsrc = A("192.0.2.2");
  lan.mtu = 1400;
  lan.protocol = 2;  // RTPROT_KERNEL
  eth0.routes.push_back(lan);
  netlink::Route def6;
  def6.dst = P("::/0");
  def6.dev = "eth0";
  def6.gateway = A("fd00::1");
  def6.metric = 1024;
  def6.protocol = 3;
  eth0.routes.push_back(def6);
  record.links.push_back(eth0);
  record.links.push_back(ShutLink{"eth1", {}, {}});
  return record;
}

TEST(FallbackRecordTest, RoundTrips) {
  FallbackRecord record = Sample();
  std::string text = FallbackRecordToText(record);
  Result<FallbackRecord> parsed = ParseFallbackRecord(text, "rec");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(*parsed, record);
  EXPECT_EQ(parsed->links[0].routes[2].dev, "eth0");
  EXPECT_FALSE(parsed->links[0].routes[1].gateway.has_value());
}

TEST(FallbackRecordTest, SavesPrivatelyAndLoadsBack) {
  TempDir dir;
  std::string path = dir.path() + "/wgate/fallback-net1.json";
  Result<std::optional<FallbackRecord>> none = LoadFallbackRecord(path);
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(SaveFallbackRecord(path, Sample()).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(FileExists(path + ".tmp"));
  Result<std::optional<FallbackRecord>> loaded = LoadFallbackRecord(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, Sample());
  ASSERT_TRUE(RemoveFallbackRecord(path).ok());
  EXPECT_FALSE(FileExists(path));
  EXPECT_TRUE(RemoveFallbackRecord(path).ok()) << "none is fine";
}

TEST(FallbackRecordTest, ACorruptRecordIsRefusedNamingTheFileAndTheValue) {
  const std::string good = FallbackRecordToText(Sample());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {good.substr(0, good.size() / 2), "/run/wgate/f.json: not a wgate fallback record: "},
      {"", "/run/wgate/f.json: not a wgate fallback record: "},
      {"[]", "/run/wgate/f.json: is not an object"},
      {with("\"version\": 1", "\"version\": 2"),
       "/run/wgate/f.json: version 2 is not 1, the only one this wgate reads"},
      {with("\"ipv6_disabled_by_wgate\": true", "\"ipv6_disabled_by_wgate\": 1"),
       "\"ipv6_disabled_by_wgate\" is missing or not true/false"},
      {with("\"ipv6_disabled_by_wgate\"", "\"ipv6_off\""), "unknown key \"ipv6_off\""},
      {with("\"name\": \"eth0\"", "\"name\": \"eth0 up\""),
       "links[0]: name \"eth0 up\" is not an interface name"},
      {with("\"name\": \"eth1\"", "\"name\": \"eth0\""), "link \"eth0\" appears twice"},
      {with("\"192.0.2.2/24\"", "\"192.0.2.300/24\""),
       "links[0]: addresses[0] \"192.0.2.300/24\" is not an address with a prefix length: "
       "\"192.0.2.300\" is not an IP address"},
      {with("\"192.0.2.2/24\"", "\"192.0.2.2\""),
       "addresses[0] \"192.0.2.2\" is not an address with a prefix length"},
      {with("\"gateway\": \"192.0.2.1\"", "\"gateway\": \"192.0.2.x\""),
       "/run/wgate/f.json: links[0].routes[0]: gateway \"192.0.2.x\" is not an IP address"},
      {with("\"gateway\": \"192.0.2.1\"", "\"gateway\": \"fd00::1\""),
       "links[0].routes[0]: gateway fd00::1 is not of the family of dst 0.0.0.0/0"},
      {with("\"metric\": 100", "\"metric\": -1"),
       "links[0].routes[0]: \"metric\" is -1, not a number from 0 to 4294967295"},
      {with("\"table\": 100", "\"table\": 255"),
       "links[0].routes[1]: table 255 is not a table the fallback records"},
      {with("\"protocol\": 2", "\"protocol\": 300"),
       "\"protocol\" is 300, not a number from 0 to 255"},
      {with("\"dst\": \"198.51.100.0/24\"", "\"dst\": \"198.51.100.7/24\""),
       "links[0].routes[1]: dst \"198.51.100.7/24\" has host bits set"},
      {with("\"dst\": \"198.51.100.0/24\"", "\"via\": \"198.51.100.0/24\""), "unknown key \"via\""},
      {with("\"routes\": []", "\"routes\": {}"), "links[1]: \"routes\" is not a list"},
  };
  for (const Case& c : cases) {
    Result<FallbackRecord> r = ParseFallbackRecord(c.text, "/run/wgate/f.json");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(r.error().message(), HasSubstr(c.error)) << c.text;
  }
}

TEST(FallbackRecordTest, LoadingACorruptFileIsAnError) {
  TempDir dir;
  std::string path = dir.Write("fallback.json", "{\"version\": 1, \"links\": [", 0600);
  Result<std::optional<FallbackRecord>> r = LoadFallbackRecord(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr(path + ": not a wgate fallback record"));
}

}  // namespace
}  // namespace wgate::daemon
