// What the local runtime keeps on disk about version changes, so a kill -9
// of the agent at any instant (mid-step included) converges on restart:
// each replica's running version (<replica>/version.json, written before the
// replica is started on it) and the service's rollout (rollout.json: its
// target, state, and the step under way with its phase, written before the
// phase acts). Plain records and their JSON files; the decisions are
// local_runtime_rollout.cc's. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "agent/versions.h"

namespace byoc::agent::local {

// What a replica runs: a version (its name and what the name resolved to)
// at a size. The size is the service's cpu_millis/memory_mib its config was
// rendered for: ClickHouse reads its caches' sizes at start only, so a
// resize rolls replica by replica as a version change does.
struct RunningVersion {
  std::string name;
  std::string binary;
  std::string config_revision;
  int cpu_millis = 0;  // 0 in a record written before sizes rolled: read as the spec's
  int memory_mib = 0;
  // The same program and configuration (the size aside)?
  bool same_program(const RunningVersion& other) const {
    return binary == other.binary && config_revision == other.config_revision;
  }
  // Does moving between the two need a restart (another binary, config or size)?
  bool same_process(const RunningVersion& other) const {
    return same_program(other) && cpu_millis == other.cpu_millis && memory_mib == other.memory_mib;
  }
  bool operator==(const RunningVersion&) const = default;
};

RunningVersion running_version(const std::string& name, const ClickHouseVersion& version, int cpu_millis,
                               int memory_mib);

void save_running_version(const std::filesystem::path& file, const RunningVersion& version);
std::optional<RunningVersion> load_running_version(const std::filesystem::path& file);

// The phases of one step, in order; the restore phases follow a failed gate.
enum class StepPhase {
  kNone,
  kDrain,          // out of the endpoint: waits for a confirmed reload without it
  kStop,           // stopped gracefully (bounded)
  kStart,          // version.json, config rewritten; started on the new binary
  kGates,          // start, ping, replication_queue, cluster — each bounded
  kReturn,         // back into the endpoint, confirmed
  kRestore,        // a gate failed: stopped, rewritten and started on the old version
  kRestoreReturn,  // back into the endpoint on the old version
};
const char* to_string(StepPhase phase);

struct RolloutRecord {
  std::string id;  // the request's; "" for a change applied without one
  int64_t not_after = 0;
  RunningVersion target;
  std::string state = "rolling";  // model::rollout_states()
  // The step under way (phase kNone: none).
  StepPhase phase = StepPhase::kNone;
  std::string step_replica;  // "s1r2"
  RunningVersion step_from;
  RunningVersion step_to;
  // The failed step, once state is "failed".
  int failed_shard = 0;
  int failed_replica = 0;
  std::string failed_check;
  bool operator==(const RolloutRecord&) const = default;
};

void save_rollout(const std::filesystem::path& file, const RolloutRecord& record);
// nullopt when missing; a malformed file throws kInternal.
std::optional<RolloutRecord> load_rollout(const std::filesystem::path& file);

}  // namespace byoc::agent::local
