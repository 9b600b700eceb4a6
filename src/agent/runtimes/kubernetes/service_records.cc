#include "agent/runtimes/kubernetes/service_records.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "model/protocol.h"

namespace byoc::agent::kube_runtime {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSpecFile = "spec.json";
constexpr const char* kImageFile = "image";
constexpr const char* kIncarnationFile = "incarnation";
constexpr const char* kAppliedFile = "applied";
constexpr const char* kCertificateFile = "certificate-names";
constexpr const char* kReplicasFile = "replicas.json";

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

json replicas_json(const ReplicaChanges& changes) {
  json leaving = json::object();
  for (const auto& [pod, l] : changes.leaving)
    leaving[pod] = {{"shard", l.shard},      {"ordinal", l.ordinal},   {"since", l.since},
                    {"never_served", l.never_served}, {"dropping", l.dropping}, {"dropped", l.dropped}};
  return {{"joining", changes.joining}, {"leaving", leaving}};
}

ReplicaChanges parse_replicas(const json& j) {
  ReplicaChanges out;
  if (!j.is_object()) throw Error::Internal("replicas.json is not an object");
  const json joining = j.value("joining", json::object());
  const json leaving = j.value("leaving", json::object());
  for (const auto& [pod, since] : joining.items()) out.joining[pod] = since.get<int64_t>();
  for (const auto& [pod, l] : leaving.items())
    out.leaving[pod] = LeavingReplica{l.value("shard", 0),        l.value("ordinal", 0),
                                      l.value("since", int64_t{0}),  l.value("never_served", false),
                                      l.value("dropping", false),    l.value("dropped", false)};
  return out;
}

}  // namespace

std::string spec_digest(const ServiceSpec& spec) { return crypto::sha256_hex(model::to_json(spec).dump()); }

std::map<std::string, ServiceRecord> load_service_records(const fs::path& root) {
  std::map<std::string, ServiceRecord> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const fs::path dir = entry.path();
    auto text = files::read_if_exists(dir / kSpecFile);
    if (!text) continue;
    try {
      ServiceRecord r;
      r.spec = model::parse_desired_service(json::parse(*text), (dir / kSpecFile).string());
      r.image = trimmed(files::read_if_exists(dir / kImageFile).value_or(""));
      r.rollout = load_rollout(dir);
      // A rollout.json from before sizes rolled holds none: its target is
      // the size of the spec it was made for, spec.json (saved with it).
      if (r.rollout && r.rollout->cpu_millis == 0 && r.rollout->memory_mib == 0) {
        r.rollout->cpu_millis = r.spec.cpu_millis;
        r.rollout->memory_mib = r.spec.memory_mib;
      }
      if (auto replicas = files::read_if_exists(dir / kReplicasFile)) {
        // Unreadable, it costs the replica changes under way, not the service.
        try {
          r.replicas = parse_replicas(json::parse(*replicas));
        } catch (const std::exception& e) {
          spdlog::warn("kubernetes runtime: ignoring {}: {}", (dir / kReplicasFile).string(), e.what());
        }
      }
      r.incarnation = trimmed(files::read_if_exists(dir / kIncarnationFile).value_or(""));
      r.applied_digest = trimmed(files::read_if_exists(dir / kAppliedFile).value_or(""));
      json certificate = json::parse(files::read_if_exists(dir / kCertificateFile).value_or("{}"), nullptr, false);
      if (certificate.is_object()) {
        r.certificate_names = certificate.value("names", "");
        r.renew_at = certificate.value("renew_at", int64_t{0});
      }
      out[r.spec.name] = std::move(r);
    } catch (const std::exception& e) {
      spdlog::warn("kubernetes runtime: ignoring {}: {}", dir.string(), e.what());
    }
  }
  return out;
}

ServiceRecord save_spec(const fs::path& root, ServiceRecord record) {
  const fs::path dir = root / record.spec.name;
  files::ensure_dir(dir, 0700);
  // Only a service made now gets one: one made before incarnations keeps
  // the chroot it has (/byoc/<service>).
  if (record.incarnation.empty() && !fs::exists(dir / kSpecFile)) {
    record.incarnation = crypto::hex(crypto::random_bytes(4));
    files::write_atomic(dir / kIncarnationFile, record.incarnation + "\n", 0600);
  }
  save_record_replicas(root, record);
  files::write_atomic(dir / kSpecFile, model::to_json(record.spec).dump(), 0600);
  files::write_atomic(dir / kImageFile, record.image + "\n", 0600);
  save_record_rollout(root, record);
  return record;
}

void save_record_rollout(const fs::path& root, const ServiceRecord& record) {
  if (record.rollout) {
    kube_runtime::save_rollout(root / record.spec.name, *record.rollout);
  } else {
    remove_rollout(root / record.spec.name);
  }
}

void save_record_replicas(const fs::path& root, const ServiceRecord& record) {
  files::write_atomic(root / record.spec.name / kReplicasFile, replicas_json(record.replicas).dump(), 0600);
}

void save_applied(const fs::path& root, const ServiceRecord& record) {
  files::write_atomic(root / record.spec.name / kAppliedFile, record.applied_digest + "\n", 0600);
}

void save_certificate(const fs::path& root, const ServiceRecord& record) {
  json certificate = {{"names", record.certificate_names}, {"renew_at", record.renew_at}};
  files::write_atomic(root / record.spec.name / kCertificateFile, certificate.dump(), 0600);
}

void remove_service_record(const fs::path& root, const std::string& service) {
  std::error_code ec;
  fs::remove_all(root / service, ec);
  if (ec) throw Error::Internal("kubernetes runtime: cannot delete " + (root / service).string() + ": " + ec.message());
}

}  // namespace byoc::agent::kube_runtime
