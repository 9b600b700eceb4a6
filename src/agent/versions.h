// The agent's own list of the ClickHouse versions it can run (versions.json
// in its state directory, docs/maintenance.md "Versions on the agent's
// side"). The desired state names a version; only this list, written on the
// customer's side, says what that name runs: a binary on this machine (the
// local runtime) or an image pinned by digest (Kubernetes). So the management
// plane can't make the agent execute anything the customer did not list.
//
// Pure: parse_versions() reads text, load_versions() adds the file. Values
// only, no threading concerns.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace byoc::agent {

struct ClickHouseVersion {
  // At least one of the two; each runtime reads its own and ignores the other.
  std::string binary;           // absolute path of clickhouse-server (local runtime); "" if none
  std::string image;            // "repo@sha256:<64 hex>" (Kubernetes); "" if none
  std::string config_revision;  // "" or 1-32 of [A-Za-z0-9._-]; rendered into the replica's config
  bool operator==(const ClickHouseVersion&) const = default;
};

struct VersionList {
  std::map<std::string, ClickHouseVersion> clickhouse;  // by version name
  // The entry named `name`, or nullptr.
  const ClickHouseVersion* find(const std::string& name) const;
  bool operator==(const VersionList&) const = default;
};

// The file name in the agent's state directory.
inline constexpr const char* kVersionsFile = "versions.json";
// What an agent without versions.json runs: Debian 12's ClickHouse.
inline constexpr const char* kDefaultClickHouseVersion = "18.16.1";

// {"18.16.1": {"binary": "/usr/sbin/clickhouse-server"}}
VersionList default_versions();

// Strict: unknown fields, bad version names, relative or odd paths, images
// not pinned by digest, an entry with neither binary nor image are
// refused with byoc::Error kInvalid whose message is one line naming the
// field (e.g. "clickhouse.18.16.1.binary").
VersionList parse_versions(const std::string& text);

// parse_versions() of `file`, default_versions() when it does not exist.
// Errors name the file.
VersionList load_versions(const std::filesystem::path& file);

}  // namespace byoc::agent
