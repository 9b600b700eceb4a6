// Where the local runtime keeps each file of a service and of the
// environment's ZooKeeper (see local_runtime.h for the tree). Paths only, no
// I/O. Directories end without '/'; callers that render them for ClickHouse,
// nginx or ZooKeeper append it.
#pragma once

#include <filesystem>
#include <string>

namespace byoc::agent::local {

// "s<shard>r<replica>", 1-based: the replica's directory, its {replica} macro
// and its key in ports.json.
std::string replica_name(int shard, int replica);

class ServiceLayout {
 public:
  ServiceLayout(std::filesystem::path root, const std::string& service) : dir_(std::move(root) / service) {}

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path spec_file() const { return dir_ / "spec.json"; }
  std::filesystem::path ports_file() const { return dir_ / "ports.json"; }
  // The internal cluster user's password (0600): Distributed tables connect
  // to the shards with it, and ClickHouse 18.16 wants it in plain text.
  std::filesystem::path cluster_secret_file() const { return dir_ / "cluster.secret"; }
  // The `support` user's password (0600): only the support gateway's nginx
  // sends it, so support can't sign in any other way.
  std::filesystem::path support_secret_file() const { return dir_ / "support.secret"; }
  // Written once the service's ZooKeeper chroot was made for it. A service
  // without it finds the chroot empty: whatever is there belonged to an
  // earlier service of the same name and is deleted first.
  std::filesystem::path chroot_marker() const { return dir_ / "zookeeper.chroot"; }

  // The service's rollout: what it moves to and the step under way (rollout_record.h).
  std::filesystem::path rollout_file() const { return dir_ / "rollout.json"; }

  std::filesystem::path replica_dir(const std::string& replica) const { return dir_ / replica; }
  // The version the replica runs (or, mid-step, is being started on).
  std::filesystem::path replica_version_file(const std::string& r) const { return replica_dir(r) / "version.json"; }
  // Merged into config.xml by ClickHouse: the version's macros.
  std::filesystem::path replica_version_config(const std::string& r) const {
    return replica_dir(r) / "config.d" / "byoc-version.xml";
  }
  // Present while a replica added to a running service has not got its
  // tables and caught up: it stays out of the endpoint (local_runtime_scale.cc).
  std::filesystem::path replica_joining_file(const std::string& r) const { return replica_dir(r) / "joining"; }
  // Present once a replica the spec dropped is on its way out (its removal
  // may have deleted its ZooKeeper nodes already).
  std::filesystem::path replica_leaving_file(const std::string& r) const { return replica_dir(r) / "leaving"; }
  std::filesystem::path replica_config(const std::string& r) const { return replica_dir(r) / "config.xml"; }
  std::filesystem::path replica_users(const std::string& r) const { return replica_dir(r) / "users.xml"; }
  std::filesystem::path replica_data(const std::string& r) const { return replica_dir(r) / "data"; }
  std::filesystem::path replica_logs(const std::string& r) const { return replica_dir(r) / "logs"; }
  std::filesystem::path replica_pid_file(const std::string& r) const {
    return replica_dir(r) / "clickhouse-server.pid";
  }
  std::filesystem::path replica_output(const std::string& r) const { return replica_logs(r) / "stdout.log"; }

  std::filesystem::path endpoint_dir() const { return dir_ / "endpoint"; }
  std::filesystem::path nginx_conf() const { return endpoint_dir() / "nginx.conf"; }
  std::filesystem::path nginx_conf_candidate() const { return endpoint_dir() / "nginx.conf.candidate"; }
  // Certificate chain and key in one 0600 file, so they are replaced together
  // by one atomic rename and nginx never loads a mismatched pair.
  std::filesystem::path tls_bundle() const { return endpoint_dir() / "tls" / "endpoint.pem"; }
  std::filesystem::path tls_ca() const { return endpoint_dir() / "tls" / "ca.pem"; }
  // The support gateway's client CA and its CRL.
  std::filesystem::path support_ca() const { return endpoint_dir() / "tls" / "support-ca.pem"; }
  std::filesystem::path support_crl() const { return endpoint_dir() / "tls" / "support-crl.pem"; }
  std::filesystem::path endpoint_logs() const { return endpoint_dir() / "logs"; }
  std::filesystem::path endpoint_run() const { return endpoint_dir() / "run"; }
  std::filesystem::path endpoint_temp() const { return endpoint_dir() / "tmp"; }
  // Written by the supervisor (nginx writes its own under run/ too).
  std::filesystem::path nginx_pid_file() const { return endpoint_dir() / "nginx.pid"; }
  std::filesystem::path nginx_output() const { return endpoint_logs() / "nginx.out"; }

 private:
  std::filesystem::path dir_;
};

// The service's chroot in the environment's ZooKeeper.
std::string zookeeper_chroot(const std::string& service);

// One ZooKeeper per runtime root, shared by its replicated services. Its
// directory name can't be a service's (service names start with a letter).
class ZooKeeperLayout {
 public:
  explicit ZooKeeperLayout(const std::filesystem::path& root) : dir_(root / "_zookeeper") {}

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path port_file() const { return dir_ / "port.json"; }
  // zoo.cfg and log4j.properties; the directory is first on the classpath.
  std::filesystem::path conf_dir() const { return dir_ / "conf"; }
  std::filesystem::path zoo_cfg() const { return conf_dir() / "zoo.cfg"; }
  std::filesystem::path log4j_properties() const { return conf_dir() / "log4j.properties"; }
  std::filesystem::path data_dir() const { return dir_ / "data"; }
  std::filesystem::path logs() const { return dir_ / "logs"; }
  std::filesystem::path log_file() const { return logs() / "zookeeper.log"; }
  std::filesystem::path output() const { return logs() / "stdout.log"; }
  std::filesystem::path pid_file() const { return dir_ / "zookeeper.pid"; }

 private:
  std::filesystem::path dir_;
};

}  // namespace byoc::agent::local
