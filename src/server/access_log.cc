#include "server/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/error.h"

namespace byoc::server {

AccessLog::AccessLog(const std::filesystem::path& path) {
  if (path == "-") {
    fd_ = STDERR_FILENO;
    return;
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw Error::Invalid("invalid_access_log", "cannot open " + path.string() + ": " + std::strerror(errno),
                         "access-log");
  owned_ = true;
  ::fchmod(fd_, 0600);
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

std::string AccessLog::format(const AccessRecord& r) {
  int64_t seconds = r.unix_millis / 1000;
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d", static_cast<int>(r.unix_millis % 1000));
  std::string time = format_rfc3339(seconds);
  time.insert(time.size() - 1, millis);  // before the Z
  nlohmann::json line = {{"time", time},
                         {"request_id", r.request_id},
                         {"source", r.source},
                         {"method", r.method.substr(0, 32)},
                         {"route", r.route},
                         {"status", r.status},
                         {"duration_ms", static_cast<double>(static_cast<int64_t>(r.seconds * 1e6)) / 1000.0}};
  if (!r.token_id.empty()) line["token_id"] = r.token_id;
  if (!r.agent.empty()) line["agent"] = r.agent;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void AccessLog::write(const AccessRecord& record) {
  std::string text = format(record) + "\n";
  std::lock_guard lock(mutex_);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk must not stop the API
    done += static_cast<size_t>(n);
  }
}

}  // namespace byoc::server
