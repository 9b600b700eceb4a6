#include "base/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>

#include "base/error.h"
#include "base/files.h"

extern char** environ;

namespace byoc::proc {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Owns one descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

[[noreturn]] void fail_errno(const std::string& what, int err = errno) {
  throw Error::Internal(what + ": " + std::strerror(err));
}

// If the parent runs with 0, 1 or 2 closed, open() can hand those numbers
// back; the child's dup2 onto 0..2 would then clobber them. Move them up.
UniqueFd above_stdio(UniqueFd fd) {
  if (fd.get() >= 3) return fd;
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) fail_errno("fcntl(F_DUPFD_CLOEXEC)");
  return UniqueFd(moved);
}

// What the child reports through the CLOEXEC pipe when it can't reach exec.
struct ChildFailure {
  int stage;
  int err;
};
enum Stage : int { kSetsid = 1, kChdir, kDup, kCloseRange, kExec };

const char* stage_name(int stage) {
  switch (stage) {
    case kSetsid: return "setsid";
    case kChdir: return "chdir";
    case kDup: return "dup2";
    case kCloseRange: return "close_range";
    case kExec: return "exec";
  }
  return "spawn";
}

std::map<std::string, std::string> child_environment(const SpawnOptions& options) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  for (const auto& [key, value] : options.env) {
    if (key.empty() || key.find('=') != std::string::npos) {
      throw Error::Invalid("bad_environment", "invalid environment variable name: " + key);
    }
    env[key] = value;
  }
  for (const auto& key : options.unset_env) env.erase(key);
  return env;
}

// PATH lookup happens here, in the parent, against the child's own PATH
// (execvpe would use ours) and without allocating after fork. A name found
// nowhere is passed through so execve reports ENOENT like a shell would.
std::string resolve_executable(const std::string& file, const std::map<std::string, std::string>& env) {
  if (file.find('/') != std::string::npos) return file;
  auto it = env.find("PATH");
  std::string_view path = it != env.end() ? std::string_view(it->second) : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + file;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return file;
}

// Only async-signal-safe calls from here on: the parent may be multithreaded.
[[noreturn]] void run_child(const SpawnOptions& options, const char* exe, char* const* argv,
                            char* const* envp, int null_fd, int out_fd, int report_fd, int max_fd) {
  auto die = [report_fd](int stage) {
    ChildFailure failure{stage, errno};
    ssize_t ignored = ::write(report_fd, &failure, sizeof failure);
    (void)ignored;
    ::_exit(127);
  };
  // Handlers are reset by exec, but "ignored" survives it: give the program
  // default dispositions and an empty mask, as a fresh process would have.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  if (options.new_session && ::setsid() < 0) die(kSetsid);
  if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) die(kChdir);
  if (::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) die(kDup);
  // Everything above 2 goes, except the CLOEXEC report pipe that exec closes.
  int rc = 0;
  if (report_fd > 3) rc = ::close_range(3, static_cast<unsigned>(report_fd - 1), 0);
  if (rc == 0) rc = ::close_range(static_cast<unsigned>(report_fd + 1), ~0U, 0);
  if (rc != 0) {
    if (errno != ENOSYS && errno != EINVAL) die(kCloseRange);
    for (int fd = 3; fd < max_fd; ++fd) {
      if (fd != report_fd) ::close(fd);
    }
  }
  ::execve(exe, argv, envp);
  die(kExec);
  ::_exit(127);  // unreachable
}

int wait_status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

struct ProcStat {
  char state = '?';
  pid_t pgrp = 0;
};

// /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and
// parentheses, so parse from the last ')'.
std::optional<ProcStat> read_proc_stat(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  char buf[1024];
  ssize_t n;
  do {
    n = ::read(fd.get(), buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  std::string_view text(buf, static_cast<size_t>(n));
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size()) return std::nullopt;
  ProcStat stat;
  stat.state = text[close + 2];
  int ppid = 0, pgrp = 0;
  if (std::sscanf(std::string(text.substr(close + 3)).c_str(), "%d %d", &ppid, &pgrp) != 2)
    return std::nullopt;
  stat.pgrp = pgrp;
  return stat;
}

bool state_alive(char state) { return state != 'Z' && state != 'X' && state != 'x'; }

bool proc_mounted() {
  static const bool mounted = ::access("/proc/self/stat", R_OK) == 0;
  return mounted;
}

// Any live (non-zombie) process left in group `pgid`?
bool group_alive(pid_t pgid) {
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int pid = 0;
    auto [ptr, err] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (err != std::errc() || ptr != name.data() + name.size()) continue;
    auto stat = read_proc_stat(pid);
    if (stat && stat->pgrp == pgid && state_alive(stat->state)) return true;
  }
  return false;
}

// Dead, and reaped if it was our child. The order matters: a child that exits
// between a reap attempt and the /proc check would be left a zombie.
bool gone_and_reaped(pid_t pid) {
  if (is_alive(pid)) return false;
  try_reap(pid);  // seen as a zombie (or gone): a child of ours can be reaped now
  return true;
}

bool poll_until(Clock::time_point deadline, const std::function<bool()>& done) {
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    if (done()) return true;
    auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace

bool wait_for(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  return poll_until(Clock::now() + timeout, done);
}

pid_t spawn(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    throw Error::Invalid("bad_command", "spawn needs a program to run", "argv");
  }
  const auto env = child_environment(options);
  const std::string exe = resolve_executable(options.argv[0], env);

  // Every allocation happens before fork.
  std::vector<std::string> env_entries;
  env_entries.reserve(env.size());
  for (const auto& [key, value] : env) env_entries.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  UniqueFd null_fd = above_stdio(UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC)));
  if (!null_fd) fail_errno("open /dev/null");
  UniqueFd out_fd;
  if (!options.output.empty()) {
    out_fd = UniqueFd(::open(options.output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!out_fd) fail_errno("open " + options.output.string());
    out_fd = above_stdio(std::move(out_fd));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail_errno("pipe2");
  UniqueFd report_read = above_stdio(UniqueFd(pipe_fds[0]));
  UniqueFd report_write = above_stdio(UniqueFd(pipe_fds[1]));

  struct rlimit limit {};
  int max_fd = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                   ? static_cast<int>(std::min<rlim_t>(limit.rlim_cur, INT_MAX))
                   : 65536;

  // Block signals across fork so no handler of ours runs in the child before
  // it resets dispositions.
  sigset_t all, saved;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid_t pid = ::fork();
  if (pid == 0) {
    run_child(options, exe.c_str(), argv.data(), envp.data(), null_fd.get(),
              out_fd ? out_fd.get() : null_fd.get(), report_write.get(), max_fd);
  }
  int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pid < 0) fail_errno("fork", fork_errno);

  report_write.reset();
  ChildFailure failure{};
  size_t got = 0;
  while (got < sizeof failure) {
    ssize_t n = ::read(report_read.get(), reinterpret_cast<char*>(&failure) + got, sizeof failure - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got == 0) return pid;  // the pipe closed on a successful exec
  // The child is exiting right after its report; reap it so it leaves no zombie.
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (got < sizeof failure) throw Error::Internal("cannot start " + options.argv[0] + ": child failed early");
  throw Error::Internal("cannot start " + options.argv[0] + ": " + stage_name(failure.stage) + ": " +
                        std::strerror(failure.err));
}

bool is_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (auto stat = read_proc_stat(pid)) return state_alive(stat->state);
  if (proc_mounted()) return false;
  // Without /proc we can't tell a zombie from a live process; this is the best left.
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

std::optional<int> try_reap(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid) return wait_status_code(status);
  return std::nullopt;
}

bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  return poll_until(Clock::now() + timeout, [pid] { return gone_and_reaped(pid); });
}

namespace {
// Only a group leader's group is ours to signal, and never the group we are in.
pid_t signal_target(pid_t pid, pid_t pgid) { return pgid == pid && pgid != ::getpgrp() ? -pgid : pid; }
}  // namespace

void signal_group(pid_t pid, int signo) {
  if (pid <= 1 || pid == ::getpid()) {
    throw Error::Invalid("bad_pid", "refusing to signal pid " + std::to_string(pid));
  }
  pid_t pgid = ::getpgid(pid);
  if (pgid < 0) return;  // gone
  ::kill(signal_target(pid, pgid), signo);
  if (signo == SIGTERM) ::kill(signal_target(pid, pgid), SIGCONT);  // a stopped process acts on it once continued
}

bool terminate(pid_t pid, std::chrono::milliseconds grace) {
  // kill(0 or -1, ...) would hit our own group or every process we may signal.
  if (pid <= 1 || pid == ::getpid()) {
    throw Error::Invalid("bad_pid", "refusing to terminate pid " + std::to_string(pid));
  }
  pid_t pgid = ::getpgid(pid);
  if (pgid < 0) {  // already gone (and reaped)
    try_reap(pid);
    return true;
  }
  const pid_t target = signal_target(pid, pgid);
  const bool whole_group = target < 0;
  auto gone = [&] { return gone_and_reaped(pid) && (!whole_group || !group_alive(pgid)); };

  ::kill(target, SIGTERM);
  ::kill(target, SIGCONT);  // a stopped process only acts on SIGTERM once continued
  if (poll_until(Clock::now() + grace, gone)) return true;

  ::kill(target, SIGKILL);
  // SIGKILL can't be refused; the bound only covers processes stuck in the kernel.
  poll_until(Clock::now() + std::chrono::seconds(10), gone);
  return false;
}

std::optional<FileLock> FileLock::try_acquire(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) fail_errno("open lock file " + path.string());
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) return std::nullopt;
    fail_errno("flock " + path.string());
  }
  return FileLock(fd.release());
}

bool FileLock::is_held(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return false;
    fail_errno("open lock file " + path.string());
  }
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return false;  // we got it: nobody holds it (closing fd releases it)
  if (errno == EWOULDBLOCK) return true;
  fail_errno("flock " + path.string());
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

void write_pid_file(const fs::path& path, pid_t pid) {
  files::write_atomic(path, std::to_string(pid) + "\n", 0644);
}

std::optional<pid_t> read_pid_file(const fs::path& path) {
  auto content = files::read_if_exists(path);
  if (!content) return std::nullopt;
  std::string_view text(*content);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  long long value = 0;
  auto [ptr, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || err != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (value <= 0 || value > INT_MAX) return std::nullopt;
  return static_cast<pid_t>(value);
}

int pick_free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) fail_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail_errno("bind 127.0.0.1:0");
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) fail_errno("getsockname");
  return ntohs(addr.sin_port);
}

bool port_accepts(const std::string& host, int port) {
  if (port <= 0 || port > 65535) return false;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return false;
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
  constexpr int kTimeoutMs = 500;  // loopback answers at once; this only bounds a black hole
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) continue;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) return true;
    if (errno != EINPROGRESS) continue;
    pollfd pfd{fd.get(), POLLOUT, 0};
    auto deadline = Clock::now() + std::chrono::milliseconds(kTimeoutMs);
    int rc;
    do {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      rc = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(left, 0)));
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) continue;
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0) return true;
  }
  return false;
}

}  // namespace byoc::proc
