#include "testing.h"

#include <cstdlib>
#include <thread>

#include "base/files.h"

namespace byoc::testing {
namespace fs = std::filesystem;

TempDir::TempDir(const std::string& prefix) : path_(files::make_temp_dir(prefix)) {}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {
fs::path env_path(const char* name, const fs::path& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? fs::path(value) : fallback;
}
}  // namespace

fs::path byoc_binary() { return env_path("BYOC_BINARY", "byoc"); }
fs::path source_dir() { return env_path("BYOC_SOURCE_DIR", fs::current_path()); }

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(10);
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
}

}  // namespace byoc::testing
