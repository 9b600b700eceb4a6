// What the kubernetes runtime keeps on disk per service, in
// <root>/<service>/ (0700; files 0600, written atomically):
//   spec.json          the spec last given to apply(), written before any object
//   image              the image its replicas run (its version's, from versions.json),
//                      with spec.json; missing: clickhouse_image() of the version
//   rollout.json       the version rollout under way or last made (version_rollout.h)
//   replicas.json      replicas joining and leaving (replica_changes.h); written
//                      before spec.json, so a spec never runs ahead of them
//   incarnation        a short id made when the service is first made: its
//                      ZooKeeper chroot (render/kubernetes KubernetesOptions)
//   applied            the digest of the spec whose apply() ran to its end
//   certificate-names  the names the endpoint's certificate was issued for,
//                      and when it is due for renewal
// so a restarted agent knows which spec was applied whole (a crash in the
// middle leaves `applied` behind `spec.json`: not READY until applied
// again) and whether the certificate still names the endpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "agent/runtime.h"
#include "agent/runtimes/kubernetes/replica_changes.h"
#include "agent/runtimes/kubernetes/version_rollout.h"

namespace byoc::agent::kube_runtime {

struct ServiceRecord {
  ServiceSpec spec;
  std::string image;  // "" : render::kubernetes::clickhouse_image() of the version
  std::optional<VersionRollout> rollout;
  ReplicaChanges replicas;
  std::string incarnation;
  std::string applied_digest;     // "" until an apply of some spec completed
  std::string certificate_names;  // EndpointNames::joined(); "" when none issued
  int64_t renew_at = 0;           // Unix seconds
};

// The digest `applied` holds for `spec`.
std::string spec_digest(const ServiceSpec& spec);

// Every service with a readable spec.json under `root`; others are skipped
// with a warning.
std::map<std::string, ServiceRecord> load_service_records(const std::filesystem::path& root);

// Writes replicas.json, spec.json, image, rollout.json (or deletes it when
// the record has none) and, for a service not on disk yet, a new
// incarnation; returns the record as stored.
ServiceRecord save_spec(const std::filesystem::path& root, ServiceRecord record);
void save_applied(const std::filesystem::path& root, const ServiceRecord& record);
void save_record_rollout(const std::filesystem::path& root, const ServiceRecord& record);
void save_record_replicas(const std::filesystem::path& root, const ServiceRecord& record);
void save_certificate(const std::filesystem::path& root, const ServiceRecord& record);
// Deletes the service's directory (throws kInternal when it can't).
void remove_service_record(const std::filesystem::path& root, const std::string& service);

}  // namespace byoc::agent::kube_runtime
