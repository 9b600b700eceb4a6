#include "agent/runtimes/kubernetes/version_rollout.h"

#include <algorithm>
#include <optional>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::agent::kube_runtime {
namespace {

using nlohmann::json;

constexpr const char* kRolloutFile = "rollout.json";

PodView pod_at(const std::vector<ShardView>& shards, int shard, int ordinal) {
  if (shard < 1 || shard > static_cast<int>(shards.size())) return {};
  const auto& pods = shards[static_cast<size_t>(shard - 1)].pods;
  return ordinal >= 0 && ordinal < static_cast<int>(pods.size()) ? pods[static_cast<size_t>(ordinal)] : PodView{};
}

bool serving(const PodView& pod) { return pod.exists && !pod.terminating && pod.state == ReplicaState::kRunning; }

// Never a second replica out: every pod of the service ready, and every
// StatefulSet's controller caught up with what was applied.
bool all_serving(const std::vector<ShardView>& shards, int replicas) {
  for (const auto& shard : shards) {
    if (!shard.settled || static_cast<int>(shard.pods.size()) < replicas) return false;
    for (int r = 0; r < replicas; ++r)
      if (!serving(shard.pods[static_cast<size_t>(r)])) return false;
  }
  return true;
}

void end_step(VersionRollout& r) {
  r.step_shard = 0;
  r.step_ordinal = 0;
  r.step_started = 0;
  r.step_revision.clear();
  r.restoring = false;
  r.pod_deleted = false;
}

// Whether the step's pod was made anew from the template: another
// revision than the one it had as the step began or, when that is unknown,
// the set's updateRevision once its controller has seen the last apply
// (nullopt until then). Without any revision the image decides alone.
std::optional<bool> moved(const VersionRollout& r, const ShardView* view, const PodView& pod) {
  if (!r.step_revision.empty()) return !pod.revision.empty() && pod.revision != r.step_revision;
  if (!view || !view->settled) return std::nullopt;
  if (!view->update_revision.empty()) return pod.revision == view->update_revision;
  return true;
}

// The step under way: done, failed (its bound passed) or still going.
RolloutMove advance_step(VersionRollout& r, const std::vector<ShardView>& shards, int64_t now) {
  RolloutMove move;
  const PodView pod = pod_at(shards, r.step_shard, r.step_ordinal);
  const ShardView* view = r.step_shard >= 1 && r.step_shard <= static_cast<int>(shards.size())
                              ? &shards[static_cast<size_t>(r.step_shard - 1)]
                              : nullptr;
  const std::optional<bool> made_anew = moved(r, view, pod);
  const bool there = pod.exists && !pod.terminating;
  const bool on_target = there && pod.image == r.image && made_anew == true;
  // Surely not on the target: another image, or the revision it had.
  const bool off_target = there && (pod.image != r.image || made_anew == false);
  if (r.restoring) {
    // Below the partition again: deleted, it comes back on the old revision.
    if (on_target && !r.pod_deleted) {
      move.delete_shard = r.step_shard;
      move.delete_ordinal = r.step_ordinal;
      r.pod_deleted = move.changed = true;
    } else if (off_target && serving(pod)) {
      end_step(r);
      move.changed = true;
    }
    return move;
  }
  if (on_target && serving(pod)) {
    end_step(r);
    move.changed = true;
    return move;
  }
  if (now < r.step_started + kStepBound.count()) return move;
  r.state = "failed";
  r.failed_shard = r.step_shard;
  r.failed_replica = r.step_ordinal + 1;
  // Started on the new image but never ready: its /ping (the readiness probe).
  r.failed_check = on_target && pod.up ? "ping" : "start";
  r.partitions[static_cast<size_t>(r.step_shard - 1)] = r.step_ordinal + 1;
  r.restoring = true;
  move.changed = move.apply = true;
  return move;
}

}  // namespace

std::optional<std::string> resolve_image(const VersionList& versions, const std::string& name,
                                         const std::string& registry) {
  const std::string version = name.empty() ? kDefaultClickHouseVersion : name;
  const ClickHouseVersion* entry = versions.find(version);
  if (entry && !entry->image.empty()) return entry->image;
  if (version == kDefaultClickHouseVersion && versions == default_versions())
    return render::kubernetes::clickhouse_image(version, registry);
  return std::nullopt;
}

VersionRollout hold_all(const std::string& id, int64_t not_after, const std::string& image, const ServiceSpec& spec) {
  VersionRollout r;
  r.id = id;
  r.not_after = not_after;
  r.image = image;
  r.cpu_millis = spec.cpu_millis;
  r.memory_mib = spec.memory_mib;
  r.partitions.assign(static_cast<size_t>(spec.shards), spec.replicas);
  return r;
}

bool same_target(const VersionRollout& r, const std::string& image, const ServiceSpec& spec) {
  return r.image == image && r.cpu_millis == spec.cpu_millis && r.memory_mib == spec.memory_mib;
}

RolloutMove advance(VersionRollout& r, const std::vector<ShardView>& shards, int replicas, int64_t now) {
  if (r.state == "done") return {};
  if (r.step_shard > 0) return advance_step(r, shards, now);
  RolloutMove move;
  if (r.state == "failed") return move;  // the same request again leaves it failed
  int next = 0;
  for (size_t i = 0; i < r.partitions.size() && !next; ++i)
    if (std::min(r.partitions[i], replicas) > 0) next = static_cast<int>(i) + 1;
  if (!next) {
    r.state = "done";
    r.partitions.clear();
    move.changed = move.apply = true;
    return move;
  }
  const std::string state = r.not_after > 0 && now >= r.not_after ? "waiting" : "rolling";
  if (state != r.state) {
    r.state = state;
    move.changed = true;
  }
  if (state == "waiting" || !all_serving(shards, replicas)) return move;
  int& partition = r.partitions[static_cast<size_t>(next - 1)];
  partition = std::min(partition, replicas) - 1;
  r.step_shard = next;
  r.step_ordinal = partition;
  r.step_started = now;
  // all_serving: the set is settled and the pod there.
  const ShardView& view = shards[static_cast<size_t>(next - 1)];
  const PodView& pod = view.pods[static_cast<size_t>(partition)];
  r.step_revision = pod.revision == view.update_revision ? "" : pod.revision;
  move.changed = move.apply = true;
  return move;
}

int replicas_done(const VersionRollout& r, int shards, int replicas) {
  if (r.state == "done") return shards * replicas;
  int done = 0;
  for (int partition : r.partitions) done += replicas - std::clamp(partition, 0, replicas);
  if (r.step_shard > 0 && !r.restoring) --done;
  return std::max(done, 0);
}

void save_rollout(const std::filesystem::path& dir, const VersionRollout& r) {
  json j = {{"id", r.id},
            {"not_after", r.not_after},
            {"image", r.image},
            {"cpu_millis", r.cpu_millis},
            {"memory_mib", r.memory_mib},
            {"state", r.state},
            {"partitions", r.partitions},
            {"step", {{"shard", r.step_shard}, {"ordinal", r.step_ordinal}, {"started", r.step_started},
                      {"revision", r.step_revision}, {"restoring", r.restoring}, {"pod_deleted", r.pod_deleted}}},
            {"failed", {{"shard", r.failed_shard}, {"replica", r.failed_replica}, {"check", r.failed_check}}}};
  files::write_atomic(dir / kRolloutFile, j.dump(), 0600);
}

std::optional<VersionRollout> load_rollout(const std::filesystem::path& dir) {
  auto text = files::read_if_exists(dir / kRolloutFile);
  if (!text) return std::nullopt;
  try {
    json j = json::parse(*text);
    VersionRollout r;
    r.id = j.at("id").get<std::string>();
    r.not_after = j.at("not_after").get<int64_t>();
    r.image = j.at("image").get<std::string>();
    r.cpu_millis = j.value("cpu_millis", 0);
    r.memory_mib = j.value("memory_mib", 0);
    r.state = j.at("state").get<std::string>();
    r.partitions = j.at("partitions").get<std::vector<int>>();
    const json& step = j.at("step");
    r.step_shard = step.at("shard").get<int>();
    r.step_ordinal = step.at("ordinal").get<int>();
    r.step_started = step.at("started").get<int64_t>();
    r.step_revision = step.value("revision", "");
    r.restoring = step.at("restoring").get<bool>();
    r.pod_deleted = step.value("pod_deleted", false);
    const json& failed = j.at("failed");
    r.failed_shard = failed.at("shard").get<int>();
    r.failed_replica = failed.at("replica").get<int>();
    r.failed_check = failed.at("check").get<std::string>();
    return r;
  } catch (const json::exception& e) {
    throw Error::Internal("kubernetes runtime: " + (dir / kRolloutFile).string() + " is malformed: " + e.what());
  }
}

void remove_rollout(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove(dir / kRolloutFile, ec);
  if (ec) throw Error::Internal("kubernetes runtime: cannot delete " + (dir / kRolloutFile).string() + ": " + ec.message());
}

}  // namespace byoc::agent::kube_runtime
