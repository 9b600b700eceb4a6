#include "kube/cluster_config.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/error.h"
#include "kube/resources.h"

namespace byoc::kube {
namespace fs = std::filesystem;

std::optional<std::string> process_environment(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return std::nullopt;
  return std::string(value);
}

namespace {

// ---- Files ---------------------------------------------------------------

// A file's content, or why it couldn't be had ("cannot be read: …", "is
// larger than …"), phrased to follow the file's name in a message.
struct FileRead {
  std::string content;
  std::string problem;  // empty on success
};

// Reads at most `max_bytes` (one more to tell a file that is too large):
// a file is never trusted to be small.
FileRead read_bounded(const fs::path& path, size_t max_bytes) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return {"", "is a directory"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {"", std::string("cannot be read: ") + std::strerror(errno)};
  std::string content(max_bytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) return {"", "cannot be read"};
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > max_bytes) return {"", "is larger than " + std::to_string(max_bytes) + " bytes"};
  return {std::move(content), ""};
}

std::string trimmed(std::string_view text) {
  auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return std::string(text);
}

// The token in a file, without the newline a kubelet or a human leaves.
FileRead read_token(const fs::path& path) {
  FileRead file = read_bounded(path, kMaxTokenFileBytes);
  if (!file.problem.empty()) return file;
  file.content = trimmed(file.content);
  if (file.content.empty()) file.problem = "is empty";
  return file;
}

// What a token provider keeps between calls when it has a clock.
struct CachedToken {
  std::mutex mutex;
  std::string token;
  std::optional<MonotonicTime> read_at;
};

// Reads `path` for every token, or (with a clock) at most once per
// kTokenFileCacheTime. A failed read is kUnavailable: the kubelet may be
// mid-rotation, and the request can be tried again.
std::function<std::string()> token_file_provider(fs::path path, const Clock* clock) {
  auto cache = std::make_shared<CachedToken>();
  return [path = std::move(path), clock, cache] {
    std::lock_guard<std::mutex> lock(cache->mutex);
    if (clock && cache->read_at && clock->monotonic_time() - *cache->read_at < kTokenFileCacheTime) return cache->token;
    FileRead read = read_token(path);
    if (!read.problem.empty()) throw Error::Unavailable("the token file " + path.string() + " " + read.problem);
    cache->token = std::move(read.content);
    if (clock) cache->read_at = clock->monotonic_time();
    return cache->token;
  };
}

bool holds_pem_certificate(std::string_view text) {
  return text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos;
}

bool holds_pem_private_key(std::string_view text) {
  return text.find("-----BEGIN ") != std::string_view::npos &&
         text.find("PRIVATE KEY-----") != std::string_view::npos;
}

// ---- In-cluster ----------------------------------------------------------

std::string required_environment(const InClusterSources& sources, const char* name) {
  std::optional<std::string> value = sources.getenv ? sources.getenv(name) : process_environment(name);
  if (!value || value->empty())
    throw Error::Invalid("kube_not_in_cluster",
                         std::string("not running in a Kubernetes cluster: ") + name + " is not set", name);
  return *value;
}

std::string in_cluster_server(const InClusterSources& sources) {
  std::string host = required_environment(sources, "KUBERNETES_SERVICE_HOST");
  std::string port = required_environment(sources, "KUBERNETES_SERVICE_PORT");
  if (!std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
    throw Error::Invalid("kube_not_in_cluster", "KUBERNETES_SERVICE_PORT is not a port number",
                         "KUBERNETES_SERVICE_PORT");
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // an IPv6 literal
  return "https://" + host + ":" + port;
}

Error service_account_error(const fs::path& path, const std::string& problem, const char* file_name) {
  return Error::Invalid("kube_service_account_invalid", "the service-account file " + path.string() + " " + problem,
                        file_name);
}

std::string service_account_ca(const InClusterSources& sources) {
  fs::path path = sources.service_account_dir / "ca.crt";
  FileRead file = read_bounded(path, kMaxPemFileBytes);
  if (file.problem.empty() && !holds_pem_certificate(file.content)) file.problem = "holds no PEM certificate";
  if (!file.problem.empty()) throw service_account_error(path, file.problem, "ca.crt");
  return std::move(file.content);
}

// ---- Kubeconfig ----------------------------------------------------------

// One entry of a named list (clusters, contexts, users): its body and the
// field that names it in messages ("users[2].user").
struct NamedEntry {
  YAML::Node body;
  std::string field;
};

// What a kubeconfig may ask for that byoc refuses, and why.
struct Refusal {
  const char* key;
  const char* why;
};

constexpr Refusal kClusterRefusals[] = {
    {"proxy-url", "proxies are not supported: byoc connects to the API server directly"},
    {"tls-server-name", "a TLS server name override is not supported: the server's certificate must match its URL"},
};

constexpr Refusal kUserRefusals[] = {
    {"exec",
     "exec credential plugins (such as `aws eks get-token`) are not run by byoc; give a token "
     "(token or tokenFile) or a client certificate"},
    {"auth-provider",
     "auth-provider plugins are not run by byoc; give a token (token or tokenFile) or a client certificate"},
    {"username", "basic authentication is not supported; give a token or a client certificate"},
    {"password", "basic authentication is not supported; give a token or a client certificate"},
    {"as", "impersonation is not supported"},
    {"as-uid", "impersonation is not supported"},
    {"as-groups", "impersonation is not supported"},
    {"as-user-extra", "impersonation is not supported"},
};

// Reads one kubeconfig. Every error names the file and the field at fault;
// values are never quoted (they may be secrets).
class KubeconfigReader {
 public:
  explicit KubeconfigReader(fs::path path) : path_(std::move(path)), dir_(path_.parent_path()) {}

  KubeconfigResult load(const std::string& wanted_context) {
    YAML::Node root = parse();
    check_kind(root);
    KubeconfigResult result;
    result.context = wanted_context.empty() ? string_at(root, "current-context", "").value_or("") : wanted_context;
    if (result.context.empty())
      throw Error::Invalid("kube_context_unknown",
                           message("current-context", "is not set; name the context to use"), "current-context");
    std::optional<NamedEntry> context = find_named(root, "contexts", "context", result.context);
    if (!context)
      throw Error::Invalid("kube_context_unknown", message("contexts", "holds no context named " + result.context),
                           "contexts");
    std::string cluster_name = required_string(context->body, "cluster", context->field);
    std::string user_name = required_string(context->body, "user", context->field);
    result.namespace_name = context_namespace(*context);
    read_cluster(referenced(root, "clusters", "cluster", cluster_name, context->field + ".cluster"), result.client);
    read_user(referenced(root, "users", "user", user_name, context->field + ".user"), result.client);
    return result;
  }

 private:
  std::string message(const std::string& field, const std::string& why) const {
    return "kubeconfig " + path_.string() + ": " + (field.empty() ? "" : field + " ") + why;
  }
  Error invalid(const std::string& field, const std::string& why) const {
    return Error::Invalid("kube_config_invalid", message(field, why), field);
  }
  Error unsupported(const std::string& field, const std::string& why) const {
    return Error::Invalid("kube_config_unsupported", message(field, why), field);
  }
  static std::string child_field(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
  }

  YAML::Node parse() const {
    FileRead file = read_bounded(path_, kMaxKubeconfigBytes);
    if (!file.problem.empty()) throw invalid("", file.problem);
    YAML::Node root;
    try {
      root = YAML::Load(file.content);
    } catch (const YAML::DeepRecursion& e) {
      throw invalid("", "nests too deeply (line " + std::to_string(e.mark.line + 1) + ")");
    } catch (const YAML::Exception& e) {
      // yaml-cpp's messages name the fault, not the text ("illegal map value").
      throw invalid("", "is not valid YAML: line " + std::to_string(e.mark.line + 1) + ", column " +
                            std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (!root.IsMap()) throw invalid("", "is not a kubeconfig (its top level is not a mapping)");
    return root;
  }

  void check_kind(const YAML::Node& root) const {
    // kubectl accepts a file without these; one that names something else is no kubeconfig.
    if (auto api_version = string_at(root, "apiVersion", ""); api_version && *api_version != "v1")
      throw invalid("apiVersion", "must be v1");
    if (auto kind = string_at(root, "kind", ""); kind && *kind != "Config") throw invalid("kind", "must be Config");
  }

  // ---- Typed access: absent, null and "" all mean "not given" (as in client-go).

  std::optional<YAML::Node> value_at(const YAML::Node& map, const char* key) const {
    YAML::Node value = map[key];
    if (!value.IsDefined() || value.IsNull()) return std::nullopt;
    return value;
  }

  std::optional<std::string> string_at(const YAML::Node& map, const char* key, const std::string& field) const {
    std::optional<YAML::Node> value = value_at(map, key);
    if (!value) return std::nullopt;
    if (!value->IsScalar()) throw invalid(child_field(field, key), "must be a string");
    if (value->Scalar().empty()) return std::nullopt;
    return value->Scalar();
  }

  std::string required_string(const YAML::Node& map, const char* key, const std::string& field) const {
    std::optional<std::string> value = string_at(map, key, field);
    if (!value) throw invalid(child_field(field, key), "is missing");
    return *value;
  }

  bool flag_at(const YAML::Node& map, const char* key, const std::string& field) const {
    std::optional<YAML::Node> value = value_at(map, key);
    bool flag = false;
    if (value && !(value->IsScalar() && YAML::convert<bool>::decode(*value, flag)))
      throw invalid(child_field(field, key), "must be true or false");
    return flag;
  }

  YAML::Node map_at(const YAML::Node& map, const char* key, const std::string& field) const {
    std::optional<YAML::Node> value = value_at(map, key);
    if (!value) throw invalid(child_field(field, key), "is missing");
    if (!value->IsMap()) throw invalid(child_field(field, key), "must be a mapping");
    return *value;
  }

  std::vector<YAML::Node> list_at(const YAML::Node& map, const char* key) const {
    std::optional<YAML::Node> value = value_at(map, key);
    if (!value) return {};
    if (!value->IsSequence()) throw invalid(key, "must be a list");
    if (value->size() > kMaxKubeconfigListEntries)
      throw invalid(key, "holds more than " + std::to_string(kMaxKubeconfigListEntries) + " entries");
    return std::vector<YAML::Node>(value->begin(), value->end());
  }

  // ---- Named lists

  // The entry of `list_key` named `name` (nullopt when none is). Every entry
  // is checked, and a name given twice is refused as client-go does: which
  // one was meant is anyone's guess.
  std::optional<NamedEntry> find_named(const YAML::Node& root, const char* list_key, const char* body_key,
                                       const std::string& name) const {
    std::optional<NamedEntry> found;
    std::set<std::string> names;
    std::vector<YAML::Node> entries = list_at(root, list_key);
    for (size_t i = 0; i < entries.size(); ++i) {
      std::string field = std::string(list_key) + "[" + std::to_string(i) + "]";
      if (!entries[i].IsMap()) throw invalid(field, "must be a mapping");
      std::string entry_name = required_string(entries[i], "name", field);
      if (!names.insert(entry_name).second) throw invalid(field + ".name", "repeats the name of an earlier entry");
      if (entry_name == name) found = NamedEntry{map_at(entries[i], body_key, field), field + "." + body_key};
    }
    return found;
  }

  // The cluster or user a context names, which must exist.
  NamedEntry referenced(const YAML::Node& root, const char* list_key, const char* body_key, const std::string& name,
                        const std::string& referring_field) const {
    std::optional<NamedEntry> entry = find_named(root, list_key, body_key, name);
    if (!entry) throw invalid(referring_field, "names " + name + ", which " + list_key + " does not hold");
    return *entry;
  }

  std::string context_namespace(const NamedEntry& context) const {
    std::optional<std::string> name = string_at(context.body, "namespace", context.field);
    if (!name) return "default";
    if (!is_dns1123_label(*name)) throw invalid(context.field + ".namespace", "is not a valid namespace name");
    return *name;
  }

  void refuse(const YAML::Node& map, const std::string& field, const auto& refusals) const {
    for (const Refusal& refusal : refusals)
      if (value_at(map, refusal.key)) throw unsupported(child_field(field, refusal.key), refusal.why);
  }

  // ---- Cluster

  void read_cluster(const NamedEntry& cluster, ClientConfig& client) const {
    if (flag_at(cluster.body, "insecure-skip-tls-verify", cluster.field))
      throw unsupported(cluster.field + ".insecure-skip-tls-verify",
                        "is refused: byoc verifies the API server against exactly the cluster's CA");
    refuse(cluster.body, cluster.field, kClusterRefusals);
    client.server = server_at(cluster);
    std::optional<std::pair<std::string, std::string>> ca =
        pem_at(cluster.body, cluster.field, "certificate-authority-data", "certificate-authority");
    if (!ca)
      throw invalid(cluster.field,
                    "gives no certificate-authority-data or certificate-authority: byoc trusts exactly the "
                    "cluster's CA, never the system's roots");
    if (!holds_pem_certificate(ca->first)) throw invalid(ca->second, "holds no PEM certificate");
    client.ca_pem = std::move(ca->first);
  }

  // https://HOST[:PORT]: kube::Client checks the authority; here the
  // scheme and path are refused with the field named.
  std::string server_at(const NamedEntry& cluster) const {
    std::string field = cluster.field + ".server";
    std::string server = required_string(cluster.body, "server", cluster.field);
    const std::string scheme = "https://";
    if (server.rfind("http://", 0) == 0)
      throw unsupported(field, "is plain http: byoc talks to the API server only over https");
    if (server.rfind(scheme, 0) != 0) throw invalid(field, "must be an https:// URL");
    while (server.size() > scheme.size() && server.back() == '/') server.pop_back();
    if (server.find_first_of("/?#@", scheme.size()) != std::string::npos)
      throw unsupported(field, "has a path, query or user info: byoc needs https://HOST[:PORT]");
    return server;
  }

  // ---- User

  void read_user(const NamedEntry& user, ClientConfig& client) const {
    refuse(user.body, user.field, kUserRefusals);
    client.token = token_provider(user);
    std::optional<std::pair<std::string, std::string>> cert =
        pem_at(user.body, user.field, "client-certificate-data", "client-certificate");
    std::optional<std::pair<std::string, std::string>> key =
        pem_at(user.body, user.field, "client-key-data", "client-key");
    if (cert.has_value() != key.has_value())
      throw invalid(user.field, "gives a client certificate or a client key without the other");
    if (cert) {
      if (!holds_pem_certificate(cert->first)) throw invalid(cert->second, "holds no PEM certificate");
      if (!holds_pem_private_key(key->first)) throw invalid(key->second, "holds no PEM private key");
      client.client_cert_pem = std::move(cert->first);
      client.client_key_pem = std::move(key->first);
    }
    if (!client.token && !cert)
      throw invalid(user.field,
                    "gives no credentials: give token, tokenFile, or client-certificate(-data) and "
                    "client-key(-data)");
  }

  // A fixed token, a tokenFile read for every call, or none.
  std::function<std::string()> token_provider(const NamedEntry& user) const {
    std::optional<std::string> token = string_at(user.body, "token", user.field);
    std::optional<std::string> token_file = string_at(user.body, "tokenFile", user.field);
    if (token && token_file) throw invalid(user.field, "gives both token and tokenFile: give one");
    if (token) {
      std::string fixed = trimmed(*token);
      if (fixed.empty()) throw invalid(user.field + ".token", "is blank");
      return [fixed] { return fixed; };
    }
    if (token_file) {
      fs::path path = resolved(*token_file);
      // Read now too, so a wrong path fails at load rather than at the first request.
      FileRead read = read_token(path);
      if (!read.problem.empty()) throw invalid(user.field + ".tokenFile", "file " + path.string() + " " + read.problem);
      return token_file_provider(path, nullptr);
    }
    return nullptr;
  }

  // ---- Data or file

  // PEM given inline (base64 under `data_key`, which wins as in client-go) or
  // as a file (under `file_key`), with the field it came from; nullopt when
  // neither is given.
  std::optional<std::pair<std::string, std::string>> pem_at(const YAML::Node& map, const std::string& field,
                                                            const char* data_key, const char* file_key) const {
    if (std::optional<std::string> data = string_at(map, data_key, field)) {
      std::string data_field = child_field(field, data_key);
      // Go's decoder, which wrote these, skips line breaks; ours takes none.
      std::string compact;
      std::copy_if(data->begin(), data->end(), std::back_inserter(compact),
                   [](unsigned char c) { return !std::isspace(c); });
      std::optional<std::string> pem = crypto::base64_decode(compact);
      if (!pem) throw invalid(data_field, "is not valid base64");
      return std::make_pair(std::move(*pem), data_field);
    }
    if (std::optional<std::string> file = string_at(map, file_key, field)) {
      std::string file_field = child_field(field, file_key);
      fs::path path = resolved(*file);
      FileRead read = read_bounded(path, kMaxPemFileBytes);
      if (!read.problem.empty()) throw invalid(file_field, "file " + path.string() + " " + read.problem);
      return std::make_pair(std::move(read.content), file_field);
    }
    return std::nullopt;
  }

  // As kubectl: a relative path is relative to the kubeconfig's directory.
  fs::path resolved(const std::string& file) const {
    fs::path path(file);
    return path.is_absolute() ? path : dir_ / path;
  }

  fs::path path_;
  fs::path dir_;
};

}  // namespace

ClientConfig in_cluster_config(const InClusterSources& sources) {
  ClientConfig config;
  config.server = in_cluster_server(sources);
  config.ca_pem = service_account_ca(sources);
  fs::path token_path = sources.service_account_dir / "token";
  FileRead token = read_token(token_path);
  if (!token.problem.empty()) throw service_account_error(token_path, token.problem, "token");
  config.token = token_file_provider(token_path, sources.clock);
  return config;
}

std::string in_cluster_namespace(const InClusterSources& sources) {
  fs::path path = sources.service_account_dir / "namespace";
  FileRead file = read_bounded(path, 256);
  std::string name = trimmed(file.content);
  if (file.problem.empty() && name.empty()) file.problem = "is empty";
  if (file.problem.empty() && !is_dns1123_label(name)) file.problem = "holds no valid namespace name";
  if (!file.problem.empty()) throw service_account_error(path, file.problem, "namespace");
  return name;
}

KubeconfigResult kubeconfig_config(const fs::path& path, const std::string& context) {
  try {
    return KubeconfigReader(path).load(context);
  } catch (const YAML::Exception& e) {
    // The reader checks every node's type before it asks for it; this is a backstop.
    throw Error::Invalid("kube_config_invalid", "kubeconfig " + path.string() + ": " + e.msg);
  }
}

}  // namespace byoc::kube
