#include "base/log.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace wgate {
namespace {

class CaptureSink : public LogSink {
 public:
  void Write(LogLevel level, std::string_view message) override {
    lines.emplace_back(level, std::string(message));
  }
  std::vector<std::pair<LogLevel, std::string>> lines;
};

TEST(LogTest, FiltersByLevelAndReachesSink) {
  CaptureSink sink;
  LogSink* old = SetLogSink(&sink);
  LogLevel old_level = GetLogLevel();
  SetLogLevel(LogLevel::kWarn);
  LogInfo("hidden");
  LogWarn("shown");
  LogError("also shown");
  SetLogLevel(old_level);
  SetLogSink(old);
  ASSERT_EQ(sink.lines.size(), 2u);
  EXPECT_EQ(sink.lines[0].second, "shown");
  EXPECT_EQ(sink.lines[1].first, LogLevel::kError);
}

TEST(LogTest, ParseLogLevel) {
  LogLevel l;
  ASSERT_TRUE(ParseLogLevel("DEBUG", &l));
  EXPECT_EQ(l, LogLevel::kDebug);
  ASSERT_TRUE(ParseLogLevel("warning", &l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("verbose", &l));
}

}  // namespace
}  // namespace wgate
