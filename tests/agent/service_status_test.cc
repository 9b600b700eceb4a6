// The local runtime's status derivation, case by case, without a process.
#include "agent/runtimes/local/service_status.h"

#include <gtest/gtest.h>

namespace byoc::agent::local {
namespace {

ProcessView supervised(ProcessState state) {
  ProcessView v;
  v.supervised = ProcessInfo{};
  v.supervised->state = state;
  return v;
}
ProcessView running() { return supervised(ProcessState::kRunning); }
ProcessView adopted() {
  ProcessView v;
  v.running_unsupervised = true;
  return v;
}
ProcessView stopped() { return {}; }

// A 1×2 service, replicated, with everything up and answering.
ServiceObservation healthy() {
  ServiceObservation s;
  s.name = "db";
  s.endpoint = "https://127.0.0.1:9443";
  s.replicas = {{1, 1, running(), true}, {1, 2, running(), true}};
  s.endpoint_process = running();
  s.endpoint_serves_current_config = true;
  s.replicated = true;
  s.zookeeper = running();
  s.zookeeper_answers = true;
  return s;
}

TEST(ServiceStatus, ReadyNeedsEveryReplicaTheEndpointsConfigAndZooKeeper) {
  ServiceStatus ready = derive_status(healthy());
  EXPECT_EQ(ready.state, ServiceState::kReady);
  EXPECT_EQ(ready.reason, "");
  EXPECT_EQ(ready.endpoint, "https://127.0.0.1:9443");
  ASSERT_EQ(ready.replicas.size(), 2u);
  EXPECT_EQ(ready.replicas[1].replica, 2);
  EXPECT_EQ(ready.replicas[1].state, ReplicaState::kRunning);

  auto silent = healthy();
  silent.replicas[0].answers = false;
  EXPECT_EQ(derive_status(silent).state, ServiceState::kProvisioning);
  EXPECT_EQ(derive_status(silent).reason, "starting");
  EXPECT_EQ(derive_status(silent).replicas[0].state, ReplicaState::kStarting);

  auto reloading = healthy();
  reloading.endpoint_serves_current_config = false;  // a reload not confirmed yet
  EXPECT_EQ(derive_status(reloading).state, ServiceState::kProvisioning);

  auto no_keeper = healthy();
  no_keeper.zookeeper_answers = false;
  EXPECT_EQ(derive_status(no_keeper).state, ServiceState::kProvisioning);
  no_keeper.replicated = false;  // an unreplicated service needs no ZooKeeper
  EXPECT_EQ(derive_status(no_keeper).state, ServiceState::kReady);
}

TEST(ServiceStatus, AGivenUpReplicaOrEndpointIsFailedWithWhich) {
  auto replica = healthy();
  replica.replicas[1].process = supervised(ProcessState::kFailed);
  EXPECT_EQ(derive_status(replica).state, ServiceState::kFailed);
  EXPECT_EQ(derive_status(replica).reason, "replica_failed");
  EXPECT_EQ(derive_status(replica).replicas[1].state, ReplicaState::kFailed);

  auto endpoint = healthy();
  endpoint.endpoint_process = supervised(ProcessState::kFailed);
  EXPECT_EQ(derive_status(endpoint).reason, "endpoint_failed");
}

TEST(ServiceStatus, RestartingStoppedAndAdoptedProcesses) {
  auto backoff = healthy();
  backoff.replicas[0].process = supervised(ProcessState::kBackoff);
  EXPECT_EQ(derive_status(backoff).reason, "restarting");
  EXPECT_EQ(derive_status(backoff).replicas[0].state, ReplicaState::kRestarting);

  auto keeper = healthy();
  keeper.zookeeper = supervised(ProcessState::kBackoff);
  EXPECT_EQ(derive_status(keeper).reason, "restarting");

  auto all_stopped = healthy();
  for (auto& r : all_stopped.replicas) r.process = stopped();
  all_stopped.endpoint_process = stopped();
  EXPECT_EQ(derive_status(all_stopped).reason, "stopped");
  EXPECT_EQ(derive_status(all_stopped).replicas[0].state, ReplicaState::kStopped);
  // Asked to start, waiting for what comes first (a chroot, the replicas): starting.
  all_stopped.start_pending = true;
  EXPECT_EQ(derive_status(all_stopped).state, ServiceState::kProvisioning);
  EXPECT_EQ(derive_status(all_stopped).reason, "starting");

  // Running from an earlier runtime (found by pid file): counts as it answers.
  auto inherited = healthy();
  for (auto& r : inherited.replicas) r.process = adopted();
  inherited.endpoint_process = adopted();
  EXPECT_EQ(derive_status(inherited).state, ServiceState::kReady);
  inherited.replicas[0].answers = false;
  EXPECT_EQ(derive_status(inherited).replicas[0].state, ReplicaState::kStarting);
  // A stopped process "answering" (a stale probe) is still stopped.
  inherited.replicas[0].process = stopped();
  inherited.replicas[0].answers = true;
  EXPECT_EQ(derive_status(inherited).replicas[0].state, ReplicaState::kStopped);
}

}  // namespace
}  // namespace byoc::agent::local
