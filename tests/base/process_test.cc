#include "base/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "base/error.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::proc {
namespace {
namespace fs = std::filesystem;
using byoc::testing::eventually;
using byoc::testing::TempDir;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string slurp(const fs::path& path) { return files::read_if_exists(path).value_or(""); }

// Kills a process by pid at scope exit if a test failed before cleaning up.
class KillOnExit {
 public:
  explicit KillOnExit(pid_t pid = -1) : pid_(pid) {}
  ~KillOnExit() {
    if (pid_ > 1 && is_alive(pid_)) {
      ::kill(pid_, SIGKILL);
      wait_gone(pid_, seconds(5));
    }
  }
  void set(pid_t pid) { pid_ = pid; }

 private:
  pid_t pid_;
};

// Waits for our child to exit and returns its exit code.
int wait_exit(pid_t pid) {
  std::optional<int> code;
  EXPECT_TRUE(eventually([&] { return (code = try_reap(pid)).has_value(); }, seconds(10)));
  return code.value_or(-1);
}

// Our child `pid` has been reaped (no zombie left for us to collect).
void expect_reaped(pid_t pid) {
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1) << "pid " << pid << " left unreaped";
  EXPECT_EQ(errno, ECHILD);
}

std::set<int> open_fds(pid_t pid) {
  std::set<int> fds;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    fds.insert(std::stoi(entry.path().filename().string()));
  }
  return fds;
}

TEST(ProcessTest, SpawnAppendsStdoutAndStderrToOutput) {
  TempDir dir;
  fs::path out = dir.path() / "out.log";
  files::write_atomic(out, "previous\n");
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2; echo \"$BYOC_GREETING\"; exit 3"};
  options.env = {{"BYOC_GREETING", "hello from env"}};
  options.output = out;
  pid_t pid = spawn(options);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(wait_exit(pid), 3);
  EXPECT_EQ(slurp(out), "previous\nto-stdout\nto-stderr\nhello from env\n");
}

TEST(ProcessTest, SpawnFindsProgramInPathAndSetsCwdAndEnv) {
  TempDir dir;
  fs::path out = dir.path() / "out.log";
  ::setenv("BYOC_PROCESS_TEST_DROP", "inherited", 1);
  ::setenv("BYOC_PROCESS_TEST_KEEP", "kept", 1);
  SpawnOptions options;
  options.argv = {"sh", "-c",
                  "pwd; echo \"${BYOC_PROCESS_TEST_DROP-unset}\"; echo \"$BYOC_PROCESS_TEST_KEEP\"; "
                  "readlink /proc/self/fd/0"};
  options.unset_env = {"BYOC_PROCESS_TEST_DROP"};
  options.cwd = dir.path();
  options.output = out;
  pid_t pid = spawn(options);
  ::unsetenv("BYOC_PROCESS_TEST_DROP");
  ::unsetenv("BYOC_PROCESS_TEST_KEEP");
  EXPECT_EQ(wait_exit(pid), 0);
  EXPECT_EQ(slurp(out), fs::canonical(dir.path()).string() + "\nunset\nkept\n/dev/null\n");
}

TEST(ProcessTest, NewSessionLeadsItsOwnGroup) {
  SpawnOptions options;
  options.argv = {"sleep", "300"};
  pid_t pid = spawn(options);
  KillOnExit guard(pid);
  EXPECT_EQ(::getsid(pid), pid);
  EXPECT_EQ(::getpgid(pid), pid);
  EXPECT_TRUE(terminate(pid, seconds(5)));
  expect_reaped(pid);

  options.new_session = false;
  pid = spawn(options);
  guard.set(pid);
  EXPECT_EQ(::getpgid(pid), ::getpgrp());
  // Not a group leader: only the process itself is signalled (our group, with
  // this test in it, survives).
  EXPECT_TRUE(terminate(pid, seconds(5)));
  EXPECT_FALSE(is_alive(pid));
  expect_reaped(pid);
}

TEST(ProcessTest, ExecFailureThrowsWithErrnoText) {
  TempDir dir;
  auto message_of = [](const SpawnOptions& options) -> std::string {
    try {
      spawn(options);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInternal);
      return e.what();
    }
    ADD_FAILURE() << "spawn did not throw";
    return "";
  };
  SpawnOptions options;
  options.argv = {"/nonexistent/byoc-no-such-program"};
  EXPECT_NE(message_of(options).find(std::strerror(ENOENT)), std::string::npos);
  options.argv = {"byoc-no-such-program-in-path"};
  EXPECT_NE(message_of(options).find(std::strerror(ENOENT)), std::string::npos);

  fs::path not_executable = dir.path() / "script";
  files::write_atomic(not_executable, "#!/bin/sh\nexit 0\n", 0644);
  options.argv = {not_executable.string()};
  EXPECT_NE(message_of(options).find(std::strerror(EACCES)), std::string::npos);

  options.argv = {"/bin/true"};
  options.cwd = dir.path() / "missing";
  std::string message = message_of(options);
  EXPECT_NE(message.find("chdir"), std::string::npos) << message;
  EXPECT_NE(message.find(std::strerror(ENOENT)), std::string::npos) << message;

  // The failed children were reaped: none is left behind as a zombie.
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);

  EXPECT_THROW(spawn(SpawnOptions{}), Error);
}

TEST(ProcessTest, ChildInheritsNoDescriptors) {
  TempDir dir;
  // What Boost.Asio does: descriptors without CLOEXEC, including a listening socket.
  int plain = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(plain, 0);
  int high = ::fcntl(plain, F_DUPFD, 200);
  ASSERT_GE(high, 200);
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);

  fs::path out = dir.path() / "out.log";
  SpawnOptions options;
  options.argv = {"sleep", "300"};
  options.output = out;
  pid_t pid = spawn(options);
  KillOnExit guard(pid);
  // spawn returns after exec, so the table we read is the program's own.
  EXPECT_EQ(open_fds(pid), (std::set<int>{0, 1, 2}));
  std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd/";
  EXPECT_EQ(fs::read_symlink(fd_dir + "0"), "/dev/null");
  EXPECT_EQ(fs::read_symlink(fd_dir + "1"), fs::canonical(out));
  EXPECT_EQ(fs::read_symlink(fd_dir + "2"), fs::canonical(out));
  EXPECT_TRUE(terminate(pid, seconds(5)));

  // The same seen from inside the child, through /proc/self/fd.
  fs::path listing = dir.path() / "fds.txt";
  options.argv = {"/bin/sh", "-c", "exec ls /proc/self/fd"};
  options.output = listing;
  EXPECT_EQ(wait_exit(spawn(options)), 0);
  std::istringstream lines(slurp(listing));
  std::set<int> seen;
  for (std::string line; std::getline(lines, line);) seen.insert(std::stoi(line));
  // ls itself holds one descriptor open to read the directory (the lowest free: 3).
  EXPECT_EQ(seen, (std::set<int>{0, 1, 2, 3}));

  ::close(plain);
  ::close(high);
  ::close(listener);
}

TEST(ProcessTest, IsAliveTreatsZombiesAsDead) {
  EXPECT_TRUE(is_alive(::getpid()));
  EXPECT_FALSE(is_alive(0));
  EXPECT_FALSE(is_alive(-1));
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "exit 7"};
  pid_t pid = spawn(options);
  EXPECT_TRUE(eventually([&] { return !is_alive(pid); }, seconds(10)));
  // Not reaped yet: the kernel still has it, as a zombie.
  EXPECT_EQ(::kill(pid, 0), 0);
  EXPECT_EQ(try_reap(pid), 7);
  EXPECT_EQ(try_reap(pid), std::nullopt);
  EXPECT_FALSE(is_alive(pid));
}

TEST(ProcessTest, WaitGoneTimesOutOnLiveProcess) {
  SpawnOptions options;
  options.argv = {"sleep", "300"};
  pid_t pid = spawn(options);
  KillOnExit guard(pid);
  EXPECT_TRUE(is_alive(pid));
  EXPECT_EQ(try_reap(pid), std::nullopt);
  EXPECT_FALSE(wait_gone(pid, milliseconds(30)));
  ::kill(pid, SIGKILL);
  EXPECT_TRUE(wait_gone(pid, seconds(10)));
  expect_reaped(pid);
}

// Spawns a shell that starts `sleep 300` in the background and waits for it.
// Returns the shell's pid; the grandchild's pid lands in *grandchild.
pid_t spawn_with_grandchild(const fs::path& dir, const std::string& prelude, pid_t* grandchild) {
  fs::path pid_file = dir / "grandchild.pid";
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c",
                  prelude + "sleep 300 & echo $! > " + pid_file.string() + ".tmp; mv " + pid_file.string() +
                      ".tmp " + pid_file.string() + "; wait"};
  pid_t pid = spawn(options);
  EXPECT_TRUE(eventually([&] { return read_pid_file(pid_file).has_value(); }, seconds(10)));
  *grandchild = read_pid_file(pid_file).value_or(-1);
  return pid;
}

TEST(ProcessTest, TerminateKillsTheWholeGroup) {
  TempDir dir;
  pid_t grandchild = -1;
  pid_t pid = spawn_with_grandchild(dir.path(), "", &grandchild);
  KillOnExit guard_child(pid), guard_grandchild(grandchild);
  ASSERT_GT(grandchild, 1);
  ASSERT_TRUE(is_alive(grandchild));
  EXPECT_EQ(::getpgid(grandchild), pid);

  EXPECT_TRUE(terminate(pid, seconds(10)));
  EXPECT_FALSE(is_alive(pid));
  EXPECT_FALSE(is_alive(grandchild));
  expect_reaped(pid);
  EXPECT_TRUE(terminate(pid, seconds(1)));  // gone already: nothing to do
}

TEST(ProcessTest, TerminateEscalatesToSigkill) {
  TempDir dir;
  pid_t grandchild = -1;
  // SIGTERM ignored by the shell and (inherited) by its background sleep.
  pid_t pid = spawn_with_grandchild(dir.path(), "trap '' TERM; ", &grandchild);
  KillOnExit guard_child(pid), guard_grandchild(grandchild);
  ASSERT_GT(grandchild, 1);
  EXPECT_FALSE(terminate(pid, milliseconds(200)));
  EXPECT_FALSE(is_alive(pid));
  EXPECT_FALSE(is_alive(grandchild));
  expect_reaped(pid);
}

TEST(ProcessTest, TerminateRefusesDangerousPids) {
  EXPECT_THROW(terminate(0, milliseconds(1)), Error);
  EXPECT_THROW(terminate(-1, milliseconds(1)), Error);
  EXPECT_THROW(terminate(1, milliseconds(1)), Error);
  EXPECT_THROW(terminate(::getpid(), milliseconds(1)), Error);
}

TEST(ProcessTest, FileLockIsExclusiveAcrossProcesses) {
  TempDir dir;
  fs::path path = dir.path() / "agent.lock";
  EXPECT_FALSE(FileLock::is_held(path));
  {
    auto lock = FileLock::try_acquire(path);
    ASSERT_TRUE(lock.has_value());
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_TRUE(FileLock::is_held(path));
    EXPECT_FALSE(FileLock::try_acquire(path).has_value());
    // Another process (util-linux flock) can't take it either.
    SpawnOptions options;
    options.argv = {"flock", "--nonblock", "--conflict-exit-code", "42", path.string(), "true"};
    EXPECT_EQ(wait_exit(spawn(options)), 42);

    // The descriptor is CLOEXEC.
    int lock_fds = 0;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      if (fs::read_symlink(entry.path(), ec) != path) continue;
      ++lock_fds;
      std::string info = slurp("/proc/self/fdinfo/" + entry.path().filename().string());
      auto pos = info.find("flags:");
      ASSERT_NE(pos, std::string::npos);
      unsigned long flags = std::stoul(info.substr(pos + 6), nullptr, 8);
      EXPECT_TRUE(flags & O_CLOEXEC) << info;
    }
    EXPECT_EQ(lock_fds, 1);

    // Moving keeps it held.
    FileLock moved = std::move(*lock);
    lock.reset();
    EXPECT_TRUE(FileLock::is_held(path));
  }
  EXPECT_FALSE(FileLock::is_held(path));

  // The other direction: a foreign process holds it, we can't take it until it exits.
  SpawnOptions options;
  options.argv = {"flock", path.string(), "sleep", "300"};
  pid_t holder = spawn(options);
  KillOnExit guard(holder);
  ASSERT_TRUE(eventually([&] { return FileLock::is_held(path); }, seconds(10)));
  EXPECT_FALSE(FileLock::try_acquire(path).has_value());
  EXPECT_TRUE(terminate(holder, seconds(5)));
  expect_reaped(holder);
  EXPECT_FALSE(FileLock::is_held(path));
  EXPECT_TRUE(FileLock::try_acquire(path).has_value());
}

TEST(ProcessTest, PidFileRoundTrip) {
  TempDir dir;
  fs::path path = dir.path() / "agent.pid";
  EXPECT_EQ(read_pid_file(path), std::nullopt);
  write_pid_file(path, 12345);
  EXPECT_EQ(read_pid_file(path), 12345);
  write_pid_file(path, ::getpid());
  EXPECT_EQ(read_pid_file(path), ::getpid());
  for (const char* bad : {"", "abc", "12x", "-5", "0", "99999999999", "1 2"}) {
    files::write_atomic(path, bad);
    EXPECT_EQ(read_pid_file(path), std::nullopt) << bad;
  }
}

TEST(ProcessTest, PickFreePortAndPortAccepts) {
  int port = pick_free_port();
  ASSERT_GT(port, 0);
  ASSERT_LT(port, 65536);
  EXPECT_FALSE(port_accepts("127.0.0.1", port));

  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(listener, 4), 0);
  EXPECT_TRUE(port_accepts("127.0.0.1", port));
  EXPECT_TRUE(port_accepts("localhost", port));
  ::close(listener);
  EXPECT_FALSE(port_accepts("127.0.0.1", port));

  EXPECT_FALSE(port_accepts("127.0.0.1", 0));
  EXPECT_FALSE(port_accepts("127.0.0.1", 70000));
  EXPECT_FALSE(port_accepts("no-such-host.invalid", port));
  EXPECT_NE(pick_free_port(), 0);
}

}  // namespace
}  // namespace byoc::proc
