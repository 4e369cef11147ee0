// Whole-file reads and in-place writes with errors that name the file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/error.h"

namespace wgate::daemon {

Result<std::string> ReadFile(const std::string& path);
// Truncates and rewrites the file without replacing it (bind mounts stay intact). Creates it with
// `mode` when missing.
Status WriteFileInPlace(const std::string& path, const std::string& text, mode_t mode = 0644);
// Creates the parent directory of `path` (one level) when missing.
Status EnsureParentDir(const std::string& path, mode_t mode = 0755);
bool FileExists(const std::string& path);

// The inode of the calling thread's network namespace: the key of wgate's per-namespace files
// under /run/wgate (test gateways in several namespaces of one host share /run).
Result<uint64_t> NetnsInode();

}  // namespace wgate::daemon
