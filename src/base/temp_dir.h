// TempDir: a private directory under /tmp for tests, removed with everything in it on destruction.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/error.h"

namespace wgate {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/wgate-test-XXXXXX";
    WGATE_CHECK(mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `text` to path()/name with `mode`; returns the full path.
  std::string Write(const std::string& name, const std::string& text, mode_t mode = 0600) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    WGATE_CHECK(::chmod(file.c_str(), mode) == 0);
    return file;
  }

 private:
  std::string path_;
};

}  // namespace wgate
