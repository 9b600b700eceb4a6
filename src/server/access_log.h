// AccessLog: one JSON line per answered request, for operators — when, which
// request (its id, as sent in X-Request-Id), from where, the method, the route
// pattern (never the raw path: it can name customers' objects), the status,
// the duration and the token that acted (its id, never its secret). Never a
// body, a query or a header. Off unless `byoc server --access-log PATH` (or
// "-" for stderr) turns it on. The file is 0600 and opened for appending,
// so `logrotate` with copytruncate works. Thread-safe: each line is one
// write(2).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

namespace byoc::server {

struct AccessRecord {
  int64_t unix_millis = 0;
  std::string request_id;
  std::string source;   // the client's address
  std::string method;
  std::string route;    // pattern, or "unmatched" / "malformed"
  int status = 0;
  double seconds = 0;
  std::string token_id; // empty when no token was verified
  std::string agent;    // an agent's certificate common name, on agent routes
};

class AccessLog {
 public:
  // Throws byoc::Error if the file can't be opened.
  explicit AccessLog(const std::filesystem::path& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(const AccessRecord& record);

  // The line written for `record`, without its newline (for tests).
  static std::string format(const AccessRecord& record);

 private:
  int fd_ = -1;
  bool owned_ = false;
  std::mutex mutex_;
};

}  // namespace byoc::server
