// Logging sink. One line per event, never per packet. Messages must never contain key material:
// callers pass already-redacted text.
//
// Thread-safe: Log() may be called from any thread; a sink is swapped only at start-up or in tests.
#pragma once

#include <string_view>

namespace wgate {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// Parses "error", "warn"/"warning", "info", "debug" (any case). Returns false when unknown.
bool ParseLogLevel(std::string_view text, LogLevel* out);
std::string_view LogLevelName(LogLevel level);

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(LogLevel level, std::string_view message) = 0;
};

// Installs `sink` (not owned; nullptr restores the stderr sink). Returns the previous one.
LogSink* SetLogSink(LogSink* sink);
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

void Log(LogLevel level, std::string_view message);
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogDebug(std::string_view m) { Log(LogLevel::kDebug, m); }

}  // namespace wgate
