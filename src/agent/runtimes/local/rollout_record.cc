#include "agent/runtimes/local/rollout_record.h"

#include <array>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"

namespace byoc::agent::local {
namespace {

using nlohmann::json;

constexpr std::array<StepPhase, 8> kPhases = {StepPhase::kNone,   StepPhase::kDrain,  StepPhase::kStop,
                                              StepPhase::kStart,  StepPhase::kGates,  StepPhase::kReturn,
                                              StepPhase::kRestore, StepPhase::kRestoreReturn};

json version_json(const RunningVersion& v) {
  return {{"name", v.name},
          {"binary", v.binary},
          {"config_revision", v.config_revision},
          {"cpu_millis", v.cpu_millis},
          {"memory_mib", v.memory_mib}};
}

RunningVersion version_from(const json& j) {
  RunningVersion v{j.at("name").get<std::string>(), j.at("binary").get<std::string>(),
                   j.at("config_revision").get<std::string>()};
  // Absent from records written before sizes rolled.
  v.cpu_millis = j.value("cpu_millis", 0);
  v.memory_mib = j.value("memory_mib", 0);
  if (v.cpu_millis < 0 || v.memory_mib < 0) throw Error::Internal("a negative replica size");
  return v;
}

std::optional<json> read_json(const std::filesystem::path& file) {
  auto text = files::read_if_exists(file);
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error::Internal("malformed " + file.string());
  return j;
}

}  // namespace

RunningVersion running_version(const std::string& name, const ClickHouseVersion& version, int cpu_millis,
                               int memory_mib) {
  return {name, version.binary, version.config_revision, cpu_millis, memory_mib};
}

const char* to_string(StepPhase phase) {
  switch (phase) {
    case StepPhase::kNone: return "none";
    case StepPhase::kDrain: return "drain";
    case StepPhase::kStop: return "stop";
    case StepPhase::kStart: return "start";
    case StepPhase::kGates: return "gates";
    case StepPhase::kReturn: return "return";
    case StepPhase::kRestore: return "restore";
    case StepPhase::kRestoreReturn: return "restore_return";
  }
  return "none";
}

void save_running_version(const std::filesystem::path& file, const RunningVersion& version) {
  files::write_atomic(file, version_json(version).dump() + "\n", 0600);
}

std::optional<RunningVersion> load_running_version(const std::filesystem::path& file) {
  auto j = read_json(file);
  if (!j) return std::nullopt;
  try {
    return version_from(*j);
  } catch (const json::exception& e) {
    throw Error::Internal("malformed " + file.string() + ": " + e.what());
  }
}

void save_rollout(const std::filesystem::path& file, const RolloutRecord& r) {
  json j = {{"id", r.id},
            {"not_after", r.not_after},
            {"target", version_json(r.target)},
            {"state", r.state},
            {"phase", to_string(r.phase)},
            {"step_replica", r.step_replica},
            {"step_from", version_json(r.step_from)},
            {"step_to", version_json(r.step_to)},
            {"failed_shard", r.failed_shard},
            {"failed_replica", r.failed_replica},
            {"failed_check", r.failed_check}};
  files::write_atomic(file, j.dump(2) + "\n", 0600);
}

std::optional<RolloutRecord> load_rollout(const std::filesystem::path& file) {
  auto j = read_json(file);
  if (!j) return std::nullopt;
  try {
    RolloutRecord r;
    r.id = j->at("id").get<std::string>();
    r.not_after = j->at("not_after").get<int64_t>();
    r.target = version_from(j->at("target"));
    r.state = j->at("state").get<std::string>();
    const std::string phase = j->at("phase").get<std::string>();
    bool known = false;
    for (StepPhase p : kPhases)
      if (phase == to_string(p)) {
        r.phase = p;
        known = true;
      }
    if (!known) throw Error::Internal("unknown phase '" + phase + "'");
    r.step_replica = j->at("step_replica").get<std::string>();
    r.step_from = version_from(j->at("step_from"));
    r.step_to = version_from(j->at("step_to"));
    r.failed_shard = j->at("failed_shard").get<int>();
    r.failed_replica = j->at("failed_replica").get<int>();
    r.failed_check = j->at("failed_check").get<std::string>();
    return r;
  } catch (const json::exception& e) {
    throw Error::Internal("malformed " + file.string() + ": " + e.what());
  } catch (const Error& e) {
    throw Error::Internal("malformed " + file.string() + ": " + e.what());
  }
}

}  // namespace byoc::agent::local
