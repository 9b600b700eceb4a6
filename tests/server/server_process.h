// A real `byoc server` for integration tests: fixed data dir and port (so a
// restart after kill -9 finds the same state and agents find it again), an
// API client pinned to its CA with its admin token. Its store is the one
// CTest chose (testing/test_store.h): SQLite in its data dir, or a fresh
// PostgreSQL database of its own — or one shared with other servers of a
// plane (use_store).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../e2e/e2e_support.h"
#include "base/http_client.h"
#include "testing/test_store.h"

namespace byoc::test {

class ServerProcess {
 public:
  ServerProcess(std::filesystem::path scratch, int port);
  ~ServerProcess();

  // Serve from `store_uri` (a postgresql:// URI other servers share) from the next start() on.
  void use_store(const std::string& store_uri) { store_arg_ = store_uri; }
  const std::string& store_arg() const { return store_arg_; }
  void start();
  void kill9();
  void stop();
  pid_t pid() const { return child_ ? child_->pid() : -1; }
  int port() const { return port_; }
  void set_port(int port) { port_ = port; }
  // More `byoc server` flags for the next start().
  void set_extra_args(std::vector<std::string> args) { extra_args_ = std::move(args); }
  // More environment variables for the next start() (HOME is the scratch's).
  void set_extra_env(std::map<std::string, std::string> env) { extra_env_ = std::move(env); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& data_dir() const { return data_dir_; }

  // Calls the API as admin; returns status and parsed body.
  std::pair<int, nlohmann::json> call(const std::string& method, const std::string& path,
                                      const nlohmann::json& body = nullptr);
  // The same with another bearer token.
  std::pair<int, nlohmann::json> call_as(const std::string& token, const std::string& method, const std::string& path,
                                         const nlohmann::json& body = nullptr);
  // Polls an operation until it leaves "running"; returns it.
  nlohmann::json wait_operation(const std::string& id, std::chrono::seconds timeout = std::chrono::seconds(90));

 private:
  std::filesystem::path scratch_;
  std::filesystem::path data_dir_;
  std::unique_ptr<testing::TestStore> own_store_;
  std::string store_arg_;
  int port_;
  std::unique_ptr<e2e::Child> child_;
  std::unique_ptr<http::Client> client_;
  std::string token_;
  int starts_ = 0;
  std::vector<std::string> extra_args_;
  std::map<std::string, std::string> extra_env_;
};

}  // namespace byoc::test
