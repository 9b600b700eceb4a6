// The health gates a replica passes after a step of a rollout restarted it
// on a new version, before it takes traffic again and the next replica is
// touched: it answers (/ping and SELECT 1), its replication queue is empty,
// and it rejoined its cluster (its ZooKeeper session is live and every
// replicated table writable; trivially met by an unreplicated service).
// Each call asks once, over loopback with a short timeout, as the service's
// internal cluster user (the only one the runtime holds a password for);
// the runtime repeats a gate until it passes or its bound runs out. The
// `start` gate (the process started and stays up) is the supervisor's.
// Any thread.
#pragma once

#include "agent/replicas/replica_sql.h"

namespace byoc::agent::local {

enum class Gate { kStart, kPing, kReplicationQueue, kCluster };
// model::rollout_checks(): "start", "ping", "replication_queue", "cluster".
const char* to_string(Gate gate);

// True if the replica passes `gate` now (kStart: always; the caller checks the process).
bool gate_passes(Gate gate, const replicas::ReplicaAccess& replica);

}  // namespace byoc::agent::local
