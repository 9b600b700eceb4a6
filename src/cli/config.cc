#include "cli/config.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"

namespace byoc::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kLoginHint = "run `byoc login --server URL --token-file FILE`";

std::string string_field(const json& doc, const char* key, const fs::path& path) {
  auto it = doc.find(key);
  if (it == doc.end()) return "";
  if (!it->is_string())
    throw Error::Invalid("bad_config", "config " + path.string() + ": `" + key + "` is not a string");
  return it->get<std::string>();
}

}  // namespace

fs::path config_path(const EnvLookup& env) {
  auto home = env("HOME");
  if (!home) throw Error::Invalid("no_home", "HOME is not set: cannot find the byoc config");
  return fs::path(*home) / ".config" / "byoc" / "config.json";
}

std::optional<ClientConfig> read_config(const fs::path& path) {
  auto text = files::read_if_exists(path);
  if (!text) return std::nullopt;
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object())
    throw Error::Invalid("bad_config", "config " + path.string() + " is not a JSON object; " + kLoginHint);
  return ClientConfig{string_field(doc, "server", path), string_field(doc, "ca_pem", path),
                      string_field(doc, "token", path)};
}

void write_config(const fs::path& path, const ClientConfig& config) {
  files::ensure_dir(path.parent_path(), 0700);
  json doc = {{"server", config.server}, {"ca_pem", config.ca_pem}, {"token", config.token}};
  files::write_atomic(path, doc.dump(2) + "\n", 0600);
}

ClientConfig resolve_connection(const std::optional<ClientConfig>& saved, const EnvLookup& env) {
  ClientConfig result = saved.value_or(ClientConfig{});
  if (auto server = env("BYOC_SERVER")) result.server = *server;
  if (auto token = env("BYOC_TOKEN")) result.token = *token;
  if (auto ca_file = env("BYOC_CA_FILE")) {
    auto pem = files::read_if_exists(*ca_file);
    if (!pem) throw Error::Invalid("bad_ca_file", "BYOC_CA_FILE " + *ca_file + " does not exist");
    result.ca_pem = *pem;
  }
  if (result.server.empty())
    throw Error::Invalid("not_logged_in",
                         std::string("no server configured: ") + kLoginHint + " or set BYOC_SERVER");
  result.server = normalize_server_url(result.server, "BYOC_SERVER");
  if (result.token.empty())
    throw Error::Invalid("not_logged_in",
                         std::string("no API token configured: ") + kLoginHint + " or set BYOC_TOKEN");
  if (result.ca_pem.empty())
    throw Error::Invalid("not_logged_in",
                         "no CA to trust for " + result.server + ": " + kLoginHint + " or set BYOC_CA_FILE");
  return result;
}

std::string normalize_server_url(const std::string& url, const std::string& field) {
  static const std::string kScheme = "https://";
  std::string result = url;
  while (!result.empty() && result.back() == '/') result.pop_back();
  if (result.rfind(kScheme, 0) != 0 || result.size() == kScheme.size())
    throw Error::Invalid("bad_server_url", "server URL must look like https://HOST:PORT, got `" + url + "`",
                         field);
  if (result.find_first_of("?# \t\r\n", kScheme.size()) != std::string::npos)
    throw Error::Invalid("bad_server_url", "server URL must be https://HOST:PORT[/PATH], got `" + url + "`",
                         field);
  return result;
}

}  // namespace byoc::cli
