// The CLI's saved login and how the environment overrides it.
//
// `byoc login` writes ~/.config/byoc/config.json (file 0600, directory 0700)
// holding the server URL, the server CA it pinned and the API token. Every
// other command resolves its connection from that file with BYOC_SERVER,
// BYOC_TOKEN and BYOC_CA_FILE (a path to the CA to trust) taking precedence,
// field by field. Plain data and free functions; thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "cli/io.h"

namespace byoc::cli {

struct ClientConfig {
  std::string server;  // https://HOST:PORT, no trailing slash
  std::string ca_pem;  // the CA the server's chain must end in
  std::string token;   // bearer token

  bool operator==(const ClientConfig&) const = default;
};

// $HOME/.config/byoc/config.json. Throws byoc::Error if HOME is unset.
std::filesystem::path config_path(const EnvLookup& env);

// nullopt if the file doesn't exist; throws byoc::Error (invalid) if it is not
// a config this version wrote.
std::optional<ClientConfig> read_config(const std::filesystem::path& path);

// Writes atomically with mode 0600, creating the directory 0700 (and
// tightening it to 0700 if it already exists).
void write_config(const std::filesystem::path& path, const ClientConfig& config);

// Applies BYOC_SERVER / BYOC_TOKEN / BYOC_CA_FILE over `saved` and checks the
// result is usable: throws byoc::Error with a hint to run `byoc login` when
// the server, the token or the CA is missing.
ClientConfig resolve_connection(const std::optional<ClientConfig>& saved, const EnvLookup& env);

// "https://h:1/" -> "https://h:1"; throws byoc::Error (invalid, field `field`)
// unless the URL is https:// with a host: the token must never travel in clear.
std::string normalize_server_url(const std::string& url, const std::string& field);

}  // namespace byoc::cli
