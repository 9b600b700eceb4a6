#include "agent/runtimes/local/service_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "base/log.h"
#include "base/process.h"
#include "render/clickhouse_config.h"
#include "render/nginx_config.h"
#include "render/validate.h"

namespace byoc::agent::local {
namespace fs = std::filesystem;
namespace {

constexpr auto kCertificateLifetime = std::chrono::hours(24 * 365);
constexpr int64_t kRenewBeforeSeconds = 30 * 24 * 3600;
constexpr auto kNginxCheckTimeout = std::chrono::seconds(15);

std::string dir_string(const fs::path& p) { return p.string() + "/"; }

unsigned file_mode(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Seconds of the file's modification time, -1 if it does not exist.
int64_t mtime_seconds(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mtim.tv_sec;
}

// Atomic write, skipped when content and mode already match. True if written.
//
// ClickHouse notices a changed config.xml/users.xml by its modification time
// in whole seconds: a rewrite within the same second as the version it
// loaded would go unnoticed, so the new file's mtime is moved past the old
// one's second when needed.
bool write_if_changed(const fs::path& path, const std::string& content, unsigned mode) {
  auto current = files::read_if_exists(path);
  if (current && *current == content && file_mode(path) == mode) return false;
  int64_t before = current ? mtime_seconds(path) : -1;
  files::write_atomic(path, content, mode);
  if (before >= 0 && mtime_seconds(path) <= before) {
    timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(before + 1), 0}};
    if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0)
      throw Error::Internal("cannot set the modification time of " + path.string());
  }
  return true;
}

// The size a replica's files are rendered for: the one it runs (a resize
// reaches it with its step), else the spec's.
render::ClickHouseSizing replica_sizing(const ServiceSpec& spec, const ServiceWiring& wiring,
                                        const std::string& replica) {
  auto v = wiring.versions.find(replica);
  if (v != wiring.versions.end() && v->second.cpu_millis > 0 && v->second.memory_mib > 0)
    return render::clickhouse_sizing(v->second.cpu_millis, v->second.memory_mib);
  return render::clickhouse_sizing(spec.cpu_millis, spec.memory_mib);
}

std::string render_config(const ServiceLayout& layout, const ServiceSpec& spec, const ServiceWiring& wiring,
                          const ReplicaRef& replica) {
  const ServicePorts& ports = wiring.ports;
  render::ClickHouseServerConfig c;
  c.cluster_name = spec.name;
  c.shard = replica.shard;
  c.replica_name = replica.name;
  const ReplicaPorts& p = ports.replicas.at(replica.name);
  c.http_port = p.http;
  c.tcp_port = p.tcp;
  c.interserver_http_port = p.interserver;
  fs::path data = layout.replica_data(replica.name);
  c.data_path = dir_string(data);
  c.tmp_path = dir_string(data / "tmp");
  c.user_files_path = dir_string(data / "user_files");
  c.format_schema_path = dir_string(data / "format_schemas");
  c.log_file = (layout.replica_logs(replica.name) / "clickhouse-server.log").string();
  c.error_log_file = (layout.replica_logs(replica.name) / "clickhouse-server.err.log").string();
  c.users_config_file = layout.replica_users(replica.name).string();
  c.cluster.resize(static_cast<size_t>(spec.shards));
  for (const auto& r : replicas_of(spec))
    if (!wiring.joining.count(r.name) || r.name == replica.name)
      c.cluster[static_cast<size_t>(r.shard - 1)].replicas.push_back(
          {"127.0.0.1", ports.replicas.at(r.name).tcp});
  c.cluster_user = kClusterUser;
  c.cluster_password = wiring.cluster_password;
  if (wiring.zookeeper_port > 0) {
    c.zookeeper = {{"127.0.0.1", wiring.zookeeper_port}};
    c.zookeeper_root = zookeeper_chroot(spec.name);
  }
  c.sizing = replica_sizing(spec, wiring, replica.name);
  return render::render_clickhouse_config(c);
}

std::string render_users(const ServiceSpec& spec, const ServiceWiring& wiring, const ReplicaRef& replica) {
  render::ClickHouseUsersConfig u;
  std::vector<std::string> default_networks = render::loopback_networks();
  default_networks.push_back(kEndpointUpstreamSource);
  u.users = {
      render::ClickHouseUser{"default", spec.default_password_sha256_hex, default_networks},
      // Only the replicas themselves (127.0.0.1): not the endpoint's source.
      render::ClickHouseUser{kClusterUser, crypto::sha256_hex(wiring.cluster_password), {"127.0.0.1"}}};
  u.sizing = replica_sizing(spec, wiring, replica.name);
  if (wiring.gateway.enabled) {
    render::ClickHouseSupportUser support;
    support.name = kSupportUser;
    support.password_sha256_hex = crypto::sha256_hex(wiring.support_password);
    support.networks = {kSupportUpstreamSource};
    u.support = support;
  }
  return render::render_clickhouse_users(u);
}

// Version names and config revisions are tokens of [A-Za-z0-9._-]
// (versions.h): nothing to escape.
std::string render_version_macros(const RunningVersion& version) {
  std::string out = "<yandex>\n  <macros>\n    <byoc_version>" + version.name + "</byoc_version>\n";
  if (!version.config_revision.empty())
    out += "    <config_revision>" + version.config_revision + "</config_revision>\n";
  return out + "  </macros>\n</yandex>\n";
}

bool is_password(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// The endpoint's certificate (leaf) if the bundle on disk holds a key and a
// certificate from `ca` valid now and for 30 more days.
std::optional<std::string> usable_certificate(const fs::path& bundle_file, const std::string& ca_pem,
                                              const Clock& clock) {
  auto bundle = files::read_if_exists(bundle_file);
  if (!bundle || bundle->find("PRIVATE KEY-----") == std::string::npos) return std::nullopt;
  try {
    auto certs = crypto::split_pem_certificates(*bundle);
    if (certs.empty() || !crypto::verify_issued_by(certs.front(), ca_pem, clock.system_time())) return std::nullopt;
    if (crypto::inspect(certs.front()).not_after_unix - clock.unix_seconds() < kRenewBeforeSeconds)
      return std::nullopt;
    return certs.front();
  } catch (const Error&) {
    return std::nullopt;  // unreadable bundle: issue a new one
  }
}

// Returns the leaf certificate in use and whether it was (re)issued.
std::pair<std::string, bool> ensure_certificate(const ServiceLayout& layout,
                                                const FileWriterOptions& options) {
  const Clock& clock = *options.clock;
  if (auto cert = usable_certificate(layout.tls_bundle(), options.environment_ca.cert_pem, clock))
    return {*cert, false};
  crypto::CertificateSpec spec;
  spec.common_name = "127.0.0.1";
  spec.dns_names = {"localhost"};
  spec.ip_addresses = {"127.0.0.1", "::1"};
  spec.server_auth = true;
  spec.not_before = clock.system_time() - std::chrono::hours(1);  // tolerate clients whose clock is a little behind
  spec.not_after = clock.system_time() + kCertificateLifetime;
  crypto::KeyedCertificate issued = crypto::issue(options.environment_ca, spec);
  files::write_atomic(layout.tls_bundle(), issued.cert_pem + issued.key_pem, 0600);
  spdlog::info("local runtime: issued endpoint certificate for {}", layout.dir().filename().string());
  return {issued.cert_pem, true};
}

// `nginx -t` on the candidate file; throws kInternal with nginx's words if rejected.
void check_nginx_config(const ServiceLayout& layout, const FileWriterOptions& options) {
  fs::path output = layout.endpoint_logs() / "nginx-check.log";
  std::error_code ec;
  fs::remove(output, ec);
  proc::SpawnOptions spawn;
  spawn.argv = {options.nginx_binary.string(),
                "-t",
                "-q",
                "-p",
                dir_string(layout.endpoint_dir()),
                "-c",
                layout.nginx_conf_candidate().string(),
                "-e",
                (layout.endpoint_logs() / "error.log").string()};
  spawn.output = output;
  pid_t pid = proc::spawn(spawn);
  std::optional<int> code;
  if (!proc::wait_for(kNginxCheckTimeout, [&] { return (code = proc::try_reap(pid)).has_value(); })) {
    proc::terminate(pid, std::chrono::seconds(1));
    throw Error::Internal("nginx -t did not finish in time");
  }
  if (*code != 0) {
    std::string said = files::read_if_exists(output).value_or("");
    if (said.size() > 2000) said = said.substr(said.size() - 2000);
    throw Error::Internal("nginx rejected the rendered endpoint config: " + said);
  }
}

}  // namespace

std::string replica_name(int shard, int replica) {
  return "s" + std::to_string(shard) + "r" + std::to_string(replica);
}

void check_service_name(const std::string& name) {
  bool ok =
      !name.empty() && name.size() <= 63 && name.front() >= 'a' && name.front() <= 'z' && name.back() != '-';
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok)
    throw Error::Invalid("invalid_service_name",
                         "service name must be a DNS-1123 label starting with a letter: '" + name + "'",
                         "name");
}

void check_service_spec(const ServiceSpec& spec) {
  check_service_name(spec.name);
  if (spec.shards < 1 || spec.shards > 64)
    throw Error::Invalid("invalid_topology", "shards must be within 1..64", "shards");
  if (spec.replicas < 1 || spec.replicas > 16)
    throw Error::Invalid("invalid_topology", "replicas must be within 1..16", "replicas");
  render::clickhouse_sizing(spec.cpu_millis, spec.memory_mib);
  render::require_sha256_hex(spec.default_password_sha256_hex, "default_password_sha256_hex");
  for (const auto& cidr : spec.allowed_ips) render::require_ip_or_cidr(cidr, "allowed_ips");
}

std::vector<ReplicaRef> replicas_of(const ServiceSpec& spec) {
  std::vector<ReplicaRef> out;
  for (int s = 1; s <= spec.shards; ++s)
    for (int r = 1; r <= spec.replicas; ++r) out.push_back({s, r, replica_name(s, r)});
  return out;
}

void save_spec(const fs::path& file, const ServiceSpec& spec) {
  // The protocol's own form, every field of the desired service.
  write_if_changed(file, model::to_json(spec).dump(2) + "\n", 0600);
}

std::optional<ServiceSpec> load_spec(const fs::path& file) {
  auto text = files::read_if_exists(file);
  if (!text) return std::nullopt;
  try {
    // Files of earlier versions hold a subset of these fields: the parser
    // takes any it lacks as the protocol's defaults.
    return model::parse_desired_service(nlohmann::json::parse(*text), file.filename().string());
  } catch (const nlohmann::json::exception& e) {
    throw Error::Internal("malformed " + file.string() + ": " + e.what());
  } catch (const Error& e) {
    throw Error::Internal("malformed " + file.string() + ": " + e.what() + " (" + e.field() + ")");
  }
}

ServicePorts ensure_ports(const ServiceLayout& layout, const ServiceSpec& spec, std::set<int>& taken) {
  ServicePorts ports = load_ports(layout.ports_file()).value_or(ServicePorts{});
  for (int p : all_ports(ports)) taken.insert(p);
  bool added = false;
  auto need = [&](int& port) {
    if (port == 0) {
      port = pick_port(taken);
      added = true;
    }
  };
  for (const auto& r : replicas_of(spec)) {
    ReplicaPorts& p = ports.replicas[r.name];
    need(p.http);
    need(p.tcp);
    need(p.interserver);
  }
  need(ports.https);
  need(ports.native_tls);
  need(ports.support);
  if (added) {
    files::ensure_dir(layout.dir(), 0700);
    save_ports(layout.ports_file(), ports);
  }
  return ports;
}

bool needs_zookeeper(const ServiceSpec& spec) { return spec.shards * spec.replicas > 1; }

namespace {
std::string ensure_password(const ServiceLayout& layout, const fs::path& file) {
  auto current = files::read_if_exists(file);
  if (current && is_password(*current) && file_mode(file) == 0600) return *current;
  files::ensure_dir(layout.dir(), 0700);
  std::string password = current && is_password(*current) ? *current : crypto::hex(crypto::random_bytes(32));
  files::write_atomic(file, password, 0600);
  return password;
}
}  // namespace

std::string ensure_cluster_password(const ServiceLayout& layout) {
  return ensure_password(layout, layout.cluster_secret_file());
}

std::string ensure_support_password(const ServiceLayout& layout) {
  return ensure_password(layout, layout.support_secret_file());
}

bool write_replica_files(const ServiceLayout& layout, const ServiceSpec& spec, const ServiceWiring& wiring) {
  if (!is_password(wiring.cluster_password))
    throw Error::Internal("the cluster password of " + spec.name + " is missing");
  bool changed = false;
  files::ensure_dir(layout.dir(), 0700);
  save_spec(layout.spec_file(), spec);
  for (const auto& r : replicas_of(spec)) {
    files::ensure_dir(layout.replica_dir(r.name), 0700);
    // Preprocessed configs (with the password hash) land in the data dir.
    files::ensure_dir(layout.replica_data(r.name), 0700);
    files::ensure_dir(layout.replica_logs(r.name), 0700);
    // users.xml first: a config.xml that ClickHouse reloads must find its users.
    changed |= write_if_changed(layout.replica_users(r.name), render_users(spec, wiring, r), 0600);
    changed |= write_if_changed(layout.replica_config(r.name), render_config(layout, spec, wiring, r), 0600);
    if (auto v = wiring.versions.find(r.name); v != wiring.versions.end()) {
      files::ensure_dir(layout.replica_version_config(r.name).parent_path(), 0700);
      changed |= write_if_changed(layout.replica_version_config(r.name), render_version_macros(v->second), 0600);
    }
  }
  return changed;
}

WriteResult write_endpoint_files(const ServiceLayout& layout, const ServiceSpec& spec,
                                 const ServiceWiring& wiring, const FileWriterOptions& options) {
  WriteResult result;
  const ServicePorts& ports = wiring.ports;
  for (const fs::path& dir : {layout.dir(), layout.endpoint_dir(), layout.tls_bundle().parent_path(),
                              layout.endpoint_logs(), layout.endpoint_run(), layout.endpoint_temp()})
    files::ensure_dir(dir, 0700);
  auto [certificate, reissued] = ensure_certificate(layout, options);
  write_if_changed(layout.tls_ca(), options.environment_ca.cert_pem, 0644);

  render::NginxEndpointConfig n;
  n.pid_file = (layout.endpoint_run() / "nginx.pid").string();
  n.error_log_file = (layout.endpoint_logs() / "error.log").string();
  n.access_log_file = (layout.endpoint_logs() / "access.log").string();
  n.temp_dir = dir_string(layout.endpoint_temp());
  n.certificate_file = layout.tls_bundle().string();
  n.certificate_key_file = layout.tls_bundle().string();
  n.https_port = ports.https;
  if (!options.stream_module_file.empty()) {
    n.native_tls_port = ports.native_tls;
    n.stream_module_file = options.stream_module_file;
  }
  for (const auto& r : replicas_of(spec)) {
    bool down = !wiring.healthy.count(r.name);
    n.http_upstreams.push_back({"127.0.0.1", ports.replicas.at(r.name).http, down});
    n.native_upstreams.push_back({"127.0.0.1", ports.replicas.at(r.name).tcp, down});
  }
  n.upstream_source = kEndpointUpstreamSource;
  n.allowed_cidrs = spec.allowed_ips;
  n.upstream_read_timeout_seconds =
      render::clickhouse_sizing(spec.cpu_millis, spec.memory_mib).max_execution_time_seconds + 60;
  std::string gateway_files;  // what nginx reads besides its config
  if (wiring.gateway.enabled) {
    if (!is_password(wiring.support_password))
      throw Error::Internal("the support password of " + spec.name + " is missing");
    write_if_changed(layout.support_ca(), wiring.gateway.ca_pem, 0600);
    write_if_changed(layout.support_crl(), wiring.gateway.crl_pem, 0600);
    render::NginxSupportGateway g;
    g.port = ports.support;
    g.ca_file = layout.support_ca().string();
    g.crl_file = layout.support_crl().string();
    g.check_address = wiring.gateway.check_address;
    g.check_key = wiring.gateway.check_key;
    g.service = spec.name;
    g.clickhouse_user = kSupportUser;
    g.clickhouse_key = wiring.support_password;
    g.upstream_source = kSupportUpstreamSource;
    n.support_gateway = g;
    gateway_files = wiring.gateway.ca_pem + wiring.gateway.crl_pem;
  }
  // The revision covers the certificate, the support CA and its CRL too:
  // each needs a reload to take effect.
  n.revision = "";
  n.revision = crypto::sha256_hex(render::render_nginx_config(n) + certificate + gateway_files).substr(0, 16);
  const std::string config = render::render_nginx_config(n);
  result.nginx_revision = n.revision;

  auto current = files::read_if_exists(layout.nginx_conf());
  if (!current || *current != config || reissued) {
    files::write_atomic(layout.nginx_conf_candidate(), config, 0600);
    check_nginx_config(layout, options);
    std::error_code ec;
    fs::rename(layout.nginx_conf_candidate(), layout.nginx_conf(), ec);
    if (ec) throw Error::Internal("cannot install " + layout.nginx_conf().string() + ": " + ec.message());
    result.endpoint_changed = true;
  }
  return result;
}

WriteResult write_service_files(const ServiceLayout& layout, const ServiceSpec& spec,
                                const ServiceWiring& wiring, const FileWriterOptions& options) {
  bool replicas_changed = write_replica_files(layout, spec, wiring);
  WriteResult result = write_endpoint_files(layout, spec, wiring, options);
  result.replica_files_changed = replicas_changed;
  return result;
}

}  // namespace byoc::agent::local
