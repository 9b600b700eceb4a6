// The files of one service under the runtime's root: the persisted spec and
// ports, each replica's config.xml/users.xml, the endpoint's certificate and
// nginx.conf. Every write is atomic and happens only when the content
// differs, so an unchanged apply() touches nothing (and triggers no reload).
// Not thread-safe: the runtime serialises calls per service.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/runtime.h"
#include "agent/runtimes/local/layout.h"
#include "agent/runtimes/local/ports.h"
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

struct RenderedEndpoint {
  std::string config;    // nginx.conf text
  std::string revision;  // served at /.byoc/revision once nginx runs this config
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
// `spec` and `ports` say. A new nginx.conf is checked with `nginx -t` before
// it replaces the old one (a config nginx rejects throws kInternal and leaves
// the old file). Renews the endpoint certificate when missing, not issued by
// the environment CA, or expiring within 30 days.
WriteResult write_service_files(const ServiceLayout& layout, const ServiceSpec& spec,
                                const ServicePorts& ports, const FileWriterOptions& options);

}  // namespace byoc::agent::local
