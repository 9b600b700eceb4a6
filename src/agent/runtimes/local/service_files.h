// The files of one service under the runtime's root: the persisted spec,
// ports and cluster password, each replica's config.xml/users.xml, the
// endpoint's certificate and nginx.conf. Every write is atomic and happens only when the content
// differs, so an unchanged apply() touches nothing (and triggers no reload).
// Not thread-safe: the runtime serialises calls per service.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/runtime.h"
#include "agent/runtimes/local/layout.h"
#include "agent/runtimes/local/ports.h"
#include "agent/runtimes/local/rollout_record.h"
#include "base/clock.h"
#include "base/crypto.h"

namespace byoc::agent::local {

// Service names become directory names, XML element names and nginx
// identifiers: a DNS-1123 label that starts with a letter. Throws kInvalid.
void check_service_name(const std::string& name);

// Throws kInvalid for a spec the local runtime can't render (bad name, size,
// password hash or CIDR), before anything is written.
void check_service_spec(const ServiceSpec& spec);

// The replicas of a spec, shard-major: s1r1, s1r2, ..., s2r1, ...
struct ReplicaRef {
  int shard = 1;
  int replica = 1;
  std::string name;
};
std::vector<ReplicaRef> replicas_of(const ServiceSpec& spec);

void save_spec(const std::filesystem::path& file, const ServiceSpec& spec);
std::optional<ServiceSpec> load_spec(const std::filesystem::path& file);

// Ports for every replica of `spec` and the endpoint: the persisted ones, plus
// fresh ones for what is missing (none of them in `taken`, which grows).
// Saves ports.json when anything was added.
ServicePorts ensure_ports(const ServiceLayout& layout, const ServiceSpec& spec, std::set<int>& taken);

// A service with more than one replica in all needs ZooKeeper: replicated
// tables and ON CLUSTER DDL. A 1x1 service runs without one (plain DDL).
bool needs_zookeeper(const ServiceSpec& spec);

// The internal user Distributed tables connect to the shards as. Its password
// is random, made by the runtime, and never leaves the service's directory.
inline constexpr const char* kClusterUser = "byoc_cluster";
// nginx connects to the replicas from this loopback address, which `default`
// accepts and the cluster user does not: the cluster user can't be used
// through the endpoint even by someone who learnt its password.
inline constexpr const char* kEndpointUpstreamSource = "127.0.0.2";
// The support gateway connects from this one, the only address the `support`
// user accepts.
inline constexpr const char* kSupportUpstreamSource = "127.0.0.3";
inline constexpr const char* kSupportUser = "support";

// The cluster user's password from cluster.secret, made (32 random bytes, hex,
// 0600) when missing or malformed.
std::string ensure_cluster_password(const ServiceLayout& layout);
// The same for the `support` user's password (support.secret).
std::string ensure_support_password(const ServiceLayout& layout);

// What a service's files are rendered from besides its spec.
struct ServiceWiring {
  ServicePorts ports;
  std::string cluster_password;
  int zookeeper_port = 0;  // 0: no <zookeeper> (a 1x1 service)
  // Replicas known to answer: the endpoint sends traffic to these only (the
  // others are listed as down).
  std::set<std::string> healthy;
  // The environment's support gateway (runtime.h); when enabled, the
  // service gets the gateway on ports.support and the `support` user.
  SupportGateway gateway;
  std::string support_password;  // 64 hex, when the gateway is enabled
  // The version each replica runs: its config.d/byoc-version.xml (macros
  // byoc_version and config_revision). A replica missing here gets none.
  std::map<std::string, RunningVersion> versions;
  // Replicas added to the running service that have not got their tables
  // yet: left out of the cluster the others read (a Distributed query must
  // not pick one) until they have.
  std::set<std::string> joining;
};

struct WriteResult {
  bool replica_files_changed = false;  // any config.xml / users.xml rewritten
  bool endpoint_changed = false;       // nginx.conf or certificate rewritten
  std::string nginx_revision;          // of the config now on disk
};

struct FileWriterOptions {
  crypto::KeyedCertificate environment_ca;
  const Clock* clock = nullptr;
  std::filesystem::path nginx_binary;  // used for `nginx -t` on a changed config
  std::string stream_module_file;      // empty: no native-protocol endpoint
};

// Creates the service's directories (0700) and brings every file to what
// `spec` and `wiring` say: write_replica_files() then write_endpoint_files().
WriteResult write_service_files(const ServiceLayout& layout, const ServiceSpec& spec,
                                const ServiceWiring& wiring, const FileWriterOptions& options);

// spec.json and each replica's config.xml and users.xml. True if any
// replica file changed (ClickHouse reloads users and clusters by itself;
// ZooKeeper settings only at its next start).
bool write_replica_files(const ServiceLayout& layout, const ServiceSpec& spec, const ServiceWiring& wiring);

// The endpoint's certificate and nginx.conf. A new nginx.conf is checked with
// `nginx -t` before it replaces the old one (a config nginx rejects throws
// kInternal and leaves the old file). Renews the endpoint certificate when
// missing, not issued by the environment CA, or expiring within 30 days.
WriteResult write_endpoint_files(const ServiceLayout& layout, const ServiceSpec& spec,
                                 const ServiceWiring& wiring, const FileWriterOptions& options);

}  // namespace byoc::agent::local
