// The fixture of the CLI-against-a-real-server tests: a `byoc server` on a
// free loopback port with its own data dir, and `byoc` runs with their own
// HOME (login() saves the admin token and the pinned CA there).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "e2e_support.h"
#include "testing/testing.h"

namespace byoc::e2e {

// An HTTP Basic Authorization value (what curl --user sends).
inline std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + crypto::base64(user + ":" + password);
}

inline nlohmann::json parse_json(const std::string& text) {
  nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(value.is_discarded()) << "not JSON:\n" << text;
  return value;
}

class CliServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = root_.path() / "home";
    data_ = root_.path() / "server";
    std::filesystem::create_directories(home_);
    start_server();
  }

  // Starts the server on its data dir (again, after a stop) on a new port.
  void start_server() {
    server_ = std::make_unique<Child>(
        std::vector<std::string>{"server", "--listen", "127.0.0.1:0", "--data-dir", data_.string()}, env(),
        root_.path() / "server");
    bool up = testing::eventually(
        [&] {
          nlohmann::json state = nlohmann::json::parse(read_text(data_ / "server.json"), nullptr, false);
          if (!state.is_object() || state.value("pid", 0) != server_->pid()) return !server_->running();
          url_ = state.value("url", "");
          return true;
        },
        std::chrono::seconds(60));
    ASSERT_TRUE(up && !url_.empty()) << "server did not start:\n" << server_->err();
    ca_pem_ = read_text(data_ / "ca.pem");
    ASSERT_FALSE(ca_pem_.empty());
  }

  void TearDown() override {
    if (agent_) agent_->stop(std::chrono::seconds(30));
    if (server_) server_->stop(std::chrono::seconds(90));
    kill_processes_mentioning(root_.path());
    if (HasFailure() && server_) std::cerr << "--- server log ---\n" << server_->err() << "\n";
  }

  std::map<std::string, std::string> env(std::map<std::string, std::string> extra = {}) {
    extra["HOME"] = home_.string();
    return extra;
  }

  RunResult byoc(const std::vector<std::string>& args, std::map<std::string, std::string> extra = {}) {
    return run_byoc(args, env(std::move(extra)), root_.path());
  }

  // A new token of `role` held by `subject`, as the environment a `byoc` run acts with.
  std::map<std::string, std::string> token_env(const std::string& role, const std::string& subject) {
    RunResult minted = byoc({"token", "create", "--role", role, "--subject", subject, "-o", "json"});
    EXPECT_EQ(minted.code, 0) << minted.err;
    return {{"BYOC_TOKEN", parse_json(minted.out).value("token", "")}};
  }

  // Logs in with the server's admin token and pinned CA.
  void login() {
    RunResult r = byoc({"login", "--server", url_, "--token-file", (data_ / "admin.token").string()});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  nlohmann::json service_json(const std::string& environment, const std::string& name) {
    RunResult r = byoc({"service", "get", name, "--env", environment, "-o", "json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return parse_json(r.out);
  }

  nlohmann::json env_json(const std::string& name) {
    RunResult r = byoc({"env", "get", name, "-o", "json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return parse_json(r.out);
  }

  testing::TempDir root_{"byoc-e2e"};
  std::filesystem::path home_, data_;
  std::string url_, ca_pem_;
  std::unique_ptr<Child> server_;
  std::unique_ptr<Child> agent_;
};


}  // namespace byoc::e2e
