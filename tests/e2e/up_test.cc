// `byoc up` as a user runs it: a fresh data dir and HOME, read stdout until
// `ready`, query the endpoint with the printed password (over HTTPS, and with
// the printed clickhouse-client command over native TLS), Ctrl-C, and check
// that nothing it started is left; then a second run on the same dir reuses
// everything and points at the saved password.
#include <gtest/gtest.h>

#include <fstream>
#include <openssl/evp.h>
#include <signal.h>

#include <cstdio>
#include <regex>
#include <sstream>

#include "base/http_client.h"
#include "e2e_support.h"
#include "testing/testing.h"

namespace byoc::e2e {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::map<std::string, std::string> summary_fields(const std::string& out) {
  std::map<std::string, std::string> fields;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(": ");
    if (colon != std::string::npos && line.find(' ') > colon)
      fields.emplace(line.substr(0, colon), line.substr(colon + 2));
  }
  return fields;
}

bool has_line(const std::string& text, const std::string& wanted) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line == wanted) return true;
  return false;
}

std::string select_one(const std::string& endpoint, const std::string& ca_pem, const std::string& password) {
  std::string plain = "default:" + password;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                      reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  encoded.resize(static_cast<size_t>(n));
  http::Client client(http::TlsOptions{.ca_pem = ca_pem});
  http::Request request;
  request.method = "POST";
  request.url = endpoint + "/";
  request.body = "SELECT 1";
  request.headers = {{"Authorization", "Basic " + encoded}};
  auto response = client.send(request);
  return std::to_string(response.status) + " " + response.body;
}

// Runs the `clickhouse-client …` line of up's summary, as a user would paste
// it, with `--query 'SELECT 1'` added: its output (stdout and stderr).
std::string run_printed_clickhouse_client(const std::string& summary) {
  std::istringstream in(summary);
  std::string line, command;
  while (std::getline(in, line))
    if (line.rfind("  clickhouse-client --config-file ", 0) == 0) command = line.substr(2);
  if (command.empty()) return "(no clickhouse-client command in the summary)";
  std::string output;
  FILE* pipe = ::popen((command + " --query 'SELECT 1' 2>&1 </dev/null").c_str(), "r");
  if (!pipe) return "(popen failed)";
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  int status = ::pclose(pipe);
  return status == 0 ? output : output + "(exit status " + std::to_string(status) + ")";
}

// The port in "byoc server https://127.0.0.1:PORT is up" on up's stderr.
std::string server_port(const std::string& err) {
  std::smatch m;
  static const std::regex pattern(R"(byoc server https://127\.0\.0\.1:(\d+) is up)");
  return std::regex_search(err, m, pattern) ? m[1].str() : "";
}

class ByocUpTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& child : children_) child->stop(60s);
    kill_processes_mentioning(root_.path());
  }

  Child& start_up(const std::string& name) {
    children_.push_back(std::make_unique<Child>(std::vector<std::string>{"up", "--data-dir", data_.string()},
                                                std::map<std::string, std::string>{{"HOME", home_.string()}},
                                                root_.path() / name));
    return *children_.back();
  }

  // Waits for `ready` on stdout; false if up exited or took too long.
  bool wait_ready(Child& up) {
    return testing::eventually([&] { return has_line(up.out(), "ready") || !up.running(); }, 300s) &&
           has_line(up.out(), "ready");
  }

  // SIGINT, as Ctrl-C would; up must exit 0 having stopped everything it started.
  void interrupt_and_check_clean(Child& up, const std::vector<ProcessInfo>& seen) {
    ASSERT_EQ(::kill(up.pid(), SIGINT), 0);
    auto code = up.wait(180s);
    ASSERT_TRUE(code.has_value()) << "byoc up did not exit after SIGINT\n" << up.err();
    EXPECT_EQ(*code, 0) << up.err();
    EXPECT_TRUE(processes_mentioning(root_.path()).empty()) << describe(processes_mentioning(root_.path()));
    for (const auto& p : seen) EXPECT_FALSE(pid_alive(p.pid)) << "still alive:" << describe({p});
    EXPECT_TRUE(live_pid_files(data_).empty()) << ::testing::PrintToString(live_pid_files(data_));
  }

  testing::TempDir root_{"byoc-up"};
  fs::path home_ = root_.path() / "home";
  fs::path data_ = root_.path() / "data";
  std::vector<std::unique_ptr<Child>> children_;
};

TEST_F(ByocUpTest, FreshStartThenReuse) {
  fs::create_directories(home_ / ".config" / "byoc");
  // A login to another server, which up must not lose.
  const std::string other = R"({"server":"https://prod.example:8443","ca_pem":"x","token":"byoc_0123456789abcdef.keep"})";
  {
    std::ofstream(home_ / ".config" / "byoc" / "config.json") << other;
  }

  Child& first = start_up("up1");
  ASSERT_TRUE(wait_ready(first)) << "stdout:\n" << first.out() << "\nstderr:\n" << first.err();
  auto fields = summary_fields(first.out());
  std::string endpoint = fields["endpoint"];
  std::string password = fields["password"];
  ASSERT_EQ(endpoint.rfind("https://127.0.0.1:", 0), 0u) << first.out();
  EXPECT_EQ(fields["user"], "default");
  ASSERT_FALSE(password.empty());
  ASSERT_FALSE(fields["ca"].empty()) << first.out();
  std::string ca_pem = read_text(fields["ca"]);
  EXPECT_NE(first.out().find("curl --cacert " + fields["ca"]), std::string::npos) << first.out();
  EXPECT_NE(first.out().find("clickhouse-client"), std::string::npos) << first.out();

  EXPECT_EQ(select_one(endpoint, ca_pem, password), "200 1\n");
  EXPECT_NE(select_one(endpoint, ca_pem, password + "x").substr(0, 4), "200 ");
  // The native protocol over TLS, trusting only the environment's CA (the config file up wrote).
  EXPECT_EQ(run_printed_clickhouse_client(first.out()), "1\n") << first.out();
  EXPECT_EQ(read_text(data_ / "demo.password"), password + "\n");
  EXPECT_EQ(file_mode(data_ / "demo.password"), 0600u);
  EXPECT_EQ(file_mode(data_), 0700u);
  // Logged in, as kind sets the kubectl context: plain commands reach up's server from another shell.
  EXPECT_NE(first.out().find("byoc (logged in to https://127.0.0.1:"), std::string::npos) << first.out();
  EXPECT_EQ(file_mode(home_ / ".config" / "byoc" / "config.json"), 0600u);
  fs::path kept = home_ / ".config" / "byoc" / "config.json.before-up";
  EXPECT_EQ(file_mode(kept), 0600u);
  EXPECT_NE(read_text(kept).find("byoc_0123456789abcdef.keep"), std::string::npos) << "the earlier login was lost";
  EXPECT_NE(first.err().find("is kept in " + kept.string()), std::string::npos) << first.err();
  for (std::vector<std::string> args : {std::vector<std::string>{"env", "list"},
                                        std::vector<std::string>{"service", "get", "demo", "--env", "demo"}}) {
    Child cli(args, {{"HOME", home_.string()}}, root_.path() / ("cli-" + args[0]));
    auto code = cli.wait(60s);
    ASSERT_TRUE(code.has_value()) << args[0];
    EXPECT_EQ(*code, 0) << args[0] << ": " << cli.err();
    EXPECT_NE(cli.out().find("demo"), std::string::npos) << cli.out();
    EXPECT_NE(cli.out().find("READY"), std::string::npos) << cli.out();
  }
  std::string first_port = server_port(first.err());
  EXPECT_FALSE(first_port.empty()) << first.err();

  auto seen = processes_mentioning(data_);
  bool has_clickhouse = false;
  for (const auto& p : seen)
    has_clickhouse |= p.executable == "clickhouse" || p.executable == "clickhouse-server";
  EXPECT_TRUE(has_clickhouse) << describe(seen);
  EXPECT_FALSE(live_pid_files(data_).empty()) << "the pid-file check below would prove nothing";
  ASSERT_NO_FATAL_FAILURE(interrupt_and_check_clean(first, seen));

  Child& second = start_up("up2");
  ASSERT_TRUE(wait_ready(second)) << "stdout:\n" << second.out() << "\nstderr:\n" << second.err();
  auto again = summary_fields(second.out());
  EXPECT_EQ(again["password"], "(shown at first start; saved in " + (data_ / "demo.password").string() + ")")
      << second.out();
  EXPECT_EQ(second.out().find(password), std::string::npos) << "the password is not printed again";
  EXPECT_EQ(server_port(second.err()), first_port) << "the server keeps its port across runs\n"
                                                   << second.err();
  EXPECT_EQ(select_one(again["endpoint"], read_text(again["ca"]), password), "200 1\n");
  EXPECT_EQ(run_printed_clickhouse_client(second.out()), "1\n") << "with the saved password\n"
                                                                << second.out();
  ASSERT_NO_FATAL_FAILURE(interrupt_and_check_clean(second, processes_mentioning(data_)));
}

TEST_F(ByocUpTest, SecondUpReusesARunningServerAndLeavesItRunning) {
  fs::create_directories(home_);
  Child& first = start_up("up1");
  ASSERT_TRUE(wait_ready(first)) << "stdout:\n" << first.out() << "\nstderr:\n" << first.err();
  std::string password = summary_fields(first.out())["password"];

  Child& second = start_up("up2");
  ASSERT_TRUE(wait_ready(second)) << "stdout:\n" << second.out() << "\nstderr:\n" << second.err();
  EXPECT_NE(second.err().find("already runs"), std::string::npos) << second.err();
  auto fields = summary_fields(second.out());
  EXPECT_EQ(select_one(fields["endpoint"], read_text(fields["ca"]), password), "200 1\n");

  // The second one didn't start the server: stopping it leaves the service up.
  ASSERT_EQ(::kill(second.pid(), SIGINT), 0);
  auto code = second.wait(60s);
  ASSERT_TRUE(code.has_value()) << second.err();
  EXPECT_EQ(*code, 0) << second.err();
  EXPECT_EQ(select_one(fields["endpoint"], read_text(fields["ca"]), password), "200 1\n");

  ASSERT_NO_FATAL_FAILURE(interrupt_and_check_clean(first, processes_mentioning(data_)));
}

}  // namespace
}  // namespace byoc::e2e
