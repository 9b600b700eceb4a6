#include "server_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "base/files.h"
#include "testing/testing.h"

namespace byoc::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

ServerProcess::ServerProcess(fs::path scratch, int port)
    : scratch_(std::move(scratch)), data_dir_(scratch_ / "data"), port_(port) {
  fs::create_directories(scratch_);
  own_store_ = std::make_unique<testing::TestStore>(data_dir_);
  store_arg_ = own_store_->server_arg();
}

ServerProcess::~ServerProcess() {
  stop();
  e2e::kill_processes_mentioning(data_dir_);
}

void ServerProcess::start() {
  ++starts_;
  std::vector<std::string> args{"server", "--listen", "127.0.0.1:" + std::to_string(port_), "--data-dir",
                                data_dir_.string()};
  if (!store_arg_.empty()) args.insert(args.end(), {"--store", store_arg_});
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::map<std::string, std::string> env = extra_env_;
  env["HOME"] = (scratch_ / "home").string();
  env.emplace("AWS_EC2_METADATA_DISABLED", "true");  // no credentials are looked for off this machine
  child_ = std::make_unique<e2e::Child>(
      args, env,
      scratch_ / ("server-" + std::to_string(starts_)));
  ASSERT_TRUE(testing::eventually([&] { return fs::exists(data_dir_ / "server.json") || !child_->running(); }, 30s));
  ASSERT_TRUE(child_->running()) << child_->err();
  token_ = files::read(data_dir_ / "admin.token");
  while (!token_.empty() && token_.back() == '\n') token_.pop_back();
  client_ = std::make_unique<http::Client>(http::TlsOptions{files::read(data_dir_ / "ca.pem")});
}

void ServerProcess::kill9() {
  if (!child_) return;
  ::kill(child_->pid(), SIGKILL);
  child_->wait(10s);
  child_.reset();
  // A killed server leaves its server.json; the next start rewrites it.
  fs::remove(data_dir_ / "server.json");
}

void ServerProcess::stop() {
  if (!child_) return;
  child_->stop(90s);
  child_.reset();
}

std::pair<int, nlohmann::json> ServerProcess::call(const std::string& method, const std::string& path,
                                                   const nlohmann::json& body) {
  return call_as(token_, method, path, body);
}

std::pair<int, nlohmann::json> ServerProcess::call_as(const std::string& token, const std::string& method,
                                                      const std::string& path, const nlohmann::json& body) {
  http::Request req;
  req.method = method;
  req.url = url() + path;
  req.headers = {{"Authorization", "Bearer " + token}};
  if (!body.is_null()) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body.dump();
  }
  http::Response res = client_->send(req);
  return {res.status, nlohmann::json::parse(res.body, nullptr, false)};
}

nlohmann::json ServerProcess::wait_operation(const std::string& id, std::chrono::seconds timeout) {
  nlohmann::json op;
  testing::eventually(
      [&] {
        auto [status, body] = call("GET", "/v1/operations/" + id);
        op = body;
        return status == 200 && body["status"] != "running";
      },
      timeout);
  return op;
}

}  // namespace byoc::test
