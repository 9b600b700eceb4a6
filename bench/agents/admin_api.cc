#include "admin_api.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "base/error.h"

namespace byoc::bench {

std::string api_call(http::Client& client, const ApiTarget& api, const std::string& method,
                     const std::string& path, const std::string& body) {
  http::Request req;
  req.method = method;
  req.url = api.url + path;
  req.headers = {{"Authorization", "Bearer " + api.token}, {"Content-Type", "application/json"}};
  req.body = body;
  req.timeout = std::chrono::seconds(120);
  http::Response res = client.send(req);
  if (res.status < 200 || res.status > 299)
    throw Error::Unavailable(method + " " + path + " answered HTTP " + std::to_string(res.status) + ": " +
                             res.body);
  return res.body;
}

void parallel_for(size_t n, int threads, const ApiTarget& api,
                  const std::function<void(size_t, http::Client&)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::mutex mutex;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      http::Client client({api.ca_pem, "", "", false});
      while (!failed) {
        size_t i = next.fetch_add(1);
        if (i >= n) return;
        try {
          fn(i, client);
        } catch (...) {
          std::lock_guard lock(mutex);
          if (!first) first = std::current_exception();
          failed = true;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace byoc::bench
