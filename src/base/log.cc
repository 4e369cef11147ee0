#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "base/strings.h"

namespace wgate {

namespace {

class StderrSink final : public LogSink {
 public:
  void Write(LogLevel level, std::string_view message) override {
    std::string line = "wgate: ";
    if (level != LogLevel::kInfo) {
      line += LogLevelName(level);
      line += ": ";
    }
    line += message;
    line += '\n';
    std::lock_guard<std::mutex> lock(mu_);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }

 private:
  std::mutex mu_;
};

StderrSink g_stderr_sink;
std::atomic<LogSink*> g_sink{&g_stderr_sink};
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  std::string t = ToLower(text);
  if (t == "error")
    *out = LogLevel::kError;
  else if (t == "warn" || t == "warning")
    *out = LogLevel::kWarn;
  else if (t == "info")
    *out = LogLevel::kInfo;
  else if (t == "debug")
    *out = LogLevel::kDebug;
  else
    return false;
  return true;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarn:
      return "warning";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "?";
}

LogSink* SetLogSink(LogSink* sink) { return g_sink.exchange(sink ? sink : &g_stderr_sink); }

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

void Log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) > g_level.load(std::memory_order_relaxed)) return;
  g_sink.load()->Write(level, message);
}

}  // namespace wgate
