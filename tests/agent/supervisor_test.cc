// The supervisor's restart policy and adoption, on small real processes
// (/bin/sh) with a ManualClock driving the backoff: no test waits for a
// backoff to pass in real time.
#include "agent/runtimes/local/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <set>

#include "agent/runtimes/local/orphans.h"
#include "agent/runtimes/local/proc_table.h"
#include "base/files.h"
#include "base/process.h"
#include "testing/testing.h"

namespace byoc::agent::local {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

void touch(const std::string& path) { files::write_atomic(path, ""); }

class SupervisorTest : public ::testing::Test {
 protected:
  ~SupervisorTest() override {
    for (Supervisor* s : {&supervisor_, &other_})
      for (const auto& key : s->keys())
        if (auto pid = s->release(key)) pids_.insert(*pid);
    for (pid_t pid : pids_)
      if (proc::is_alive(pid)) proc::terminate(pid, std::chrono::seconds(5));
  }

  // A shell that runs `script`; `marker` is its last argument ($0), so the
  // command line carries it as a whole word.
  ProcessSpec shell(const std::string& script, const std::string& name = "p") {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script, marker(name)};
    spec.output = dir_.path() / (name + ".out");
    spec.pid_file = dir_.path() / (name + ".pid");
    spec.cmdline_marker = marker(name);
    spec.comm = "sh";
    return spec;
  }

  std::string marker(const std::string& name) const { return (dir_.path() / (name + ".conf")).string(); }

  pid_t pid_of(const std::string& key) {
    auto info = supervisor_.info(key);
    if (info && info->pid > 0) pids_.insert(info->pid);
    return info ? info->pid : 0;
  }

  // Polls (in real time) until the supervisor has seen the process die.
  bool poll_until_down(const std::string& key) {
    return testing::eventually([&] {
      supervisor_.poll();
      auto info = supervisor_.info(key);
      return info && info->state != ProcessState::kRunning;
    });
  }

  testing::TempDir dir_{"byoc-supervisor"};
  ManualClock clock_;
  BackoffPolicy policy_{milliseconds(200), milliseconds(1'000), milliseconds(30'000), 4};
  Supervisor supervisor_{clock_, policy_};
  Supervisor other_{clock_, policy_};
  std::set<pid_t> pids_;
};

TEST_F(SupervisorTest, RestartsADeadProcessWithDoublingBackoffUpToTheMax) {
  int starts = 0;
  ProcessSpec spec = shell("exit 3");
  spec.before_start = [&] { ++starts; };
  supervisor_.ensure_running("k", spec);
  EXPECT_EQ(starts, 1);

  std::vector<int64_t> delays;
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(poll_until_down("k"));
    ProcessInfo info = *supervisor_.info("k");
    EXPECT_EQ(info.last_exit, 3);
    EXPECT_EQ(info.pid, 0);
    EXPECT_EQ(info.consecutive_failures, round + 1);
    EXPECT_EQ(info.state, round + 1 >= policy_.failed_after ? ProcessState::kFailed : ProcessState::kBackoff);
    // Not before its time...
    int64_t waited = 0;
    while (true) {
      supervisor_.poll();
      if (supervisor_.info("k")->state == ProcessState::kRunning) break;
      ASSERT_LT(waited, 5'000) << "never restarted";
      clock_.advance(milliseconds(50));
      waited += 50;
    }
    pid_of("k");
    delays.push_back(waited);
    EXPECT_EQ(supervisor_.info("k")->restarts, round + 1);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{200, 400, 800, 1000, 1000}));
  EXPECT_EQ(starts, 6);
}

TEST_F(SupervisorTest, BackoffStartsOverAfterTheProcessRanAWhile) {
  std::string flag = (dir_.path() / "crash").string();
  // Runs until the flag file exists, then exits 1.
  ProcessSpec spec = shell("while [ ! -e " + flag + " ]; do sleep 0.02; done; exit 1");
  supervisor_.ensure_running("k", spec);
  pid_of("k");
  for (int i = 0; i < 3; ++i) {  // three quick deaths: backoff grows to 800 ms
    touch(flag);
    ASSERT_TRUE(poll_until_down("k"));
    fs::remove(flag);
    clock_.advance(milliseconds(1'000));
    supervisor_.poll();
    ASSERT_EQ(supervisor_.info("k")->state, ProcessState::kRunning);
    pid_of("k");
  }
  EXPECT_EQ(supervisor_.info("k")->consecutive_failures, 3);
  clock_.advance(policy_.reset_after);  // it runs a while...
  touch(flag);
  ASSERT_TRUE(poll_until_down("k"));
  fs::remove(flag);
  EXPECT_EQ(supervisor_.info("k")->consecutive_failures, 1);
  clock_.advance(milliseconds(199));
  supervisor_.poll();
  EXPECT_NE(supervisor_.info("k")->state, ProcessState::kRunning);
  clock_.advance(milliseconds(1));
  supervisor_.poll();
  EXPECT_EQ(supervisor_.info("k")->state, ProcessState::kRunning);
  pid_of("k");
}

TEST_F(SupervisorTest, AFailingStartHookCountsAsAFailedStart) {
  int calls = 0;
  ProcessSpec spec = shell("sleep 30");
  spec.before_start = [&] {
    if (++calls == 1) throw std::runtime_error("port taken");
  };
  EXPECT_THROW(supervisor_.ensure_running("k", spec), std::runtime_error);
  EXPECT_EQ(supervisor_.info("k")->state, ProcessState::kBackoff);
  EXPECT_EQ(supervisor_.info("k")->pid, 0);
  clock_.advance(milliseconds(200));
  supervisor_.poll();
  EXPECT_EQ(supervisor_.info("k")->state, ProcessState::kRunning);
  EXPECT_GT(pid_of("k"), 0);
  EXPECT_EQ(calls, 2);
}

TEST_F(SupervisorTest, WritesPidFilesAndANewSupervisorAdoptsTheLiveProcess) {
  ProcessSpec spec = shell("sleep 30; true");
  supervisor_.ensure_running("k", spec);
  pid_t pid = pid_of("k");
  EXPECT_EQ(proc::read_pid_file(spec.pid_file), pid);
  EXPECT_EQ(::getpgid(pid), pid);  // its own group

  other_.ensure_running("k", spec);
  EXPECT_EQ(other_.info("k")->pid, pid);
  EXPECT_TRUE(other_.info("k")->adopted);
  EXPECT_EQ(Supervisor::find_running(spec.pid_file, spec.cmdline_marker), pid);

  // The adopted process's death is noticed without waitpid, and it comes back.
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(testing::eventually([&] {
    other_.poll();
    return other_.info("k")->state != ProcessState::kRunning;
  }));
  clock_.advance(milliseconds(200));
  other_.poll();
  ASSERT_EQ(other_.info("k")->state, ProcessState::kRunning);
  pids_.insert(other_.info("k")->pid);
  EXPECT_NE(other_.info("k")->pid, pid);
  EXPECT_FALSE(other_.info("k")->adopted);
}

TEST_F(SupervisorTest, DoesNotAdoptARecycledPid) {
  ProcessSpec a = shell("sleep 30; true", "a");
  supervisor_.ensure_running("a", a);
  pid_t stranger = pid_of("a");
  // b's pid file names a live process whose command line is not b's.
  ProcessSpec b = shell("sleep 30; true", "b");
  proc::write_pid_file(b.pid_file, stranger);
  other_.ensure_running("b", b);
  pid_t started = other_.info("b")->pid;
  pids_.insert(started);
  EXPECT_NE(started, stranger);
  EXPECT_FALSE(other_.info("b")->adopted);
  // A marker that is only a prefix of an argument does not match either.
  EXPECT_FALSE(Supervisor::find_running(a.pid_file, marker("a").substr(0, marker("a").size() - 2)));
}

TEST_F(SupervisorTest, KillsWhatADeadLeaderLeftInItsGroup) {
  ProcessSpec spec = shell("sleep 30 & sleep 30 & wait");
  spec.comm = "sleep";
  supervisor_.ensure_running("k", spec);
  pid_t leader = pid_of("k");
  std::vector<pid_t> helpers;
  ASSERT_TRUE(testing::eventually([&] {
    helpers = child_processes(leader);
    return helpers.size() == 2;
  }));
  for (pid_t h : helpers) pids_.insert(h);
  ASSERT_EQ(::kill(leader, SIGKILL), 0);
  ASSERT_TRUE(poll_until_down("k"));
  for (pid_t h : helpers) EXPECT_TRUE(proc::wait_gone(h, std::chrono::seconds(5))) << h;
}

TEST_F(SupervisorTest, AReleasedProcessIsNoLongerRestarted) {
  supervisor_.ensure_running("k", shell("sleep 30; true"));
  pid_t pid = pid_of("k");
  EXPECT_EQ(supervisor_.release("k"), pid);
  EXPECT_FALSE(supervisor_.info("k"));
  EXPECT_TRUE(proc::terminate(pid, std::chrono::seconds(5)));
  clock_.advance(milliseconds(10'000));
  supervisor_.poll();
  EXPECT_TRUE(supervisor_.keys().empty());
  EXPECT_FALSE(supervisor_.signal("k", SIGHUP));
}

// A process started just before a crash, with no pid file written: found by
// its marker and adopted through a repaired pid file; a second copy is stopped.
TEST_F(SupervisorTest, AProcessWithoutItsPidFileIsFoundByItsMarkerAndDuplicatesStop) {
  auto start_copy = [&] {
    proc::SpawnOptions spawn;
    spawn.argv = {"/bin/sh", "-c", "sleep 30; true", marker("orphan")};
    pid_t pid = proc::spawn(spawn);
    pids_.insert(pid);
    return pid;
  };
  pid_t first = start_copy();
  pid_t second = start_copy();
  const fs::path pid_file = dir_.path() / "orphan.pid";
  ASSERT_FALSE(fs::exists(pid_file));
  ExpectedProcess expected{"sh", marker("orphan"), pid_file};
  EXPECT_EQ(reconcile_pid_files({expected}), 1);
  pid_t kept = std::min(first, second);
  EXPECT_EQ(proc::read_pid_file(pid_file), kept);
  EXPECT_TRUE(proc::wait_gone(std::max(first, second), std::chrono::seconds(5)));
  EXPECT_TRUE(proc::is_alive(kept));
  // The supervisor now adopts it instead of starting another.
  ProcessSpec spec = shell("sleep 30; true", "orphan");
  supervisor_.ensure_running("orphan", spec);
  EXPECT_EQ(pid_of("orphan"), kept);
  EXPECT_TRUE(supervisor_.info("orphan")->adopted);
  // A pid file that names the live copy is left alone.
  EXPECT_EQ(reconcile_pid_files({expected}), 0);
  EXPECT_EQ(proc::read_pid_file(pid_file), kept);
}

}  // namespace
}  // namespace byoc::agent::local
