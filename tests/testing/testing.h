// Helpers shared by byoc's tests: scratch directories that clean themselves
// up, the path of the built `byoc` binary, and polling with a deadline instead
// of fixed sleeps.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "base/error.h"

namespace byoc::testing {

// A fresh 0700 directory removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "byoc-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// $BYOC_BINARY (set by CTest) — the `byoc` executable under test.
std::filesystem::path byoc_binary();
// The source tree ($BYOC_SOURCE_DIR).
std::filesystem::path source_dir();

// Calls `condition` until it returns true or `timeout` passes, backing off
// from 10 ms to 200 ms between calls. Returns the last result.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The code of the byoc::Error `f` throws ("(no error)" when it returns).
template <typename F>
std::string error_code(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return "(no error)";
}

// The message of the byoc::Error `f` throws ("(no error)" when it returns).
template <typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace byoc::testing
