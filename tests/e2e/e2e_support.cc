#include "e2e_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/testing.h"

extern char** environ;

namespace byoc::e2e {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool is_zombie(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;  // gone
  char state = stat[paren + 2];
  return state == 'Z' || state == 'X';
}

bool mentions(const std::string& command, const std::string& dir) {
  for (size_t at = command.find(dir); at != std::string::npos; at = command.find(dir, at + 1)) {
    size_t end = at + dir.size();
    if (end == command.size() || command[end] == '/' || command[end] == ' ') return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (name == "HOME" || extra.count(name)) continue;
    if (name.rfind("BYOC_", 0) == 0 && name != "BYOC_LOG_LEVEL") continue;
    if (name.rfind("XDG_", 0) == 0) continue;
    // No AWS configuration of the machine's: a test gives its own, or none.
    if (name.rfind("AWS_", 0) == 0) continue;
    out.push_back(entry);
  }
  for (const auto& [name, value] : extra) out.push_back(name + "=" + value);
  return out;
}

Child::Child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
             const fs::path& output_prefix)
    : out_path_(output_prefix.string() + ".out"), err_path_(output_prefix.string() + ".err") {
  std::vector<std::string> argv_storage = {testing::byoc_binary().string()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<std::string> env_storage = child_environment(env);
  std::vector<char*> argv, envp;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: we can end it and its children together
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  int rc = posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
  }
}

Child::~Child() {
  if (pid_ > 0 && !reaped_) stop(10s);
}

std::string Child::out() const { return read_text(out_path_); }
std::string Child::err() const { return read_text(err_path_); }

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (reaped_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r < 0 && errno == ECHILD) {  // reaped elsewhere
      reaped_ = true;
      return exit_code_;
    }
    if (r == pid_) {
      reaped_ = true;
      exit_code_ = exit_code_of(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

bool Child::running() { return pid_ > 0 && !wait(0ms).has_value(); }

void Child::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0 || reaped_) return;
  ::kill(pid_, SIGTERM);
  if (wait(grace)) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  wait(10s);
}

size_t RunResult::err_lines() const {
  size_t lines = std::count(err.begin(), err.end(), '\n');
  if (!err.empty() && err.back() != '\n') ++lines;
  return lines;
}

RunResult run_byoc(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                   const fs::path& scratch, std::chrono::milliseconds timeout) {
  static int counter = 0;
  Child child(args, env, scratch / ("run-" + std::to_string(++counter)));
  RunResult result;
  auto code = child.wait(timeout);
  if (!code) {
    std::string joined;
    for (const auto& a : args) joined += " " + a;
    ADD_FAILURE() << "byoc" << joined << " did not finish in time";
    child.stop(5s);
  }
  result.code = code.value_or(-1);
  result.out = child.out();
  result.err = child.err();
  return result;
}

std::vector<ProcessInfo> processes_mentioning(const fs::path& dir) {
  std::string needle = dir.lexically_normal().string();
  while (needle.size() > 1 && needle.back() == '/') needle.pop_back();
  std::vector<ProcessInfo> result;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid()) continue;
    std::string command = read_text(entry.path() / "cmdline");
    for (char& c : command)
      if (c == '\0') c = ' ';
    if (command.empty() || !mentions(command, needle) || is_zombie(pid)) continue;
    std::error_code link_error;
    std::string exe = fs::read_symlink(entry.path() / "exe", link_error).filename().string();
    result.push_back({pid, exe, command});
  }
  return result;
}

void kill_processes_mentioning(const fs::path& dir) {
  auto left = processes_mentioning(dir);
  for (const auto& p : left) ::kill(p.pid, SIGTERM);
  if (!testing::eventually([&] { return processes_mentioning(dir).empty(); }, 15s)) {
    for (const auto& p : processes_mentioning(dir)) ::kill(p.pid, SIGKILL);
    testing::eventually([&] { return processes_mentioning(dir).empty(); }, 10s);
  }
}

std::string describe(const std::vector<ProcessInfo>& processes) {
  std::string out;
  for (const auto& p : processes)
    out += "\n  " + std::to_string(p.pid) + " [" + p.executable + "] " + p.command;
  return out;
}

std::vector<std::string> live_pid_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec) || it->path().extension() != ".pid") continue;
    std::string text = read_text(it->path());
    try {
      pid_t pid = static_cast<pid_t>(std::stol(text));
      if (pid > 0 && pid_alive(pid)) out.push_back(it->path().string() + " -> " + std::to_string(pid));
    } catch (const std::exception&) {
    }
  }
  return out;
}

bool pid_alive(pid_t pid) { return ::kill(pid, 0) == 0 && !is_zombie(pid); }

unsigned file_mode(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace byoc::e2e
