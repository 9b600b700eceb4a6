#include "kube/cluster_config.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::kube {
namespace {

namespace fs = std::filesystem;
using byoc::testing::error_code;
using byoc::testing::error_message;
using byoc::testing::TempDir;

// The reader checks only the PEM armour; no TLS happens in these tests.
const std::string kCaPem = "-----BEGIN CERTIFICATE-----\nMIIBcluster\n-----END CERTIFICATE-----\n";
const std::string kClientCertPem = "-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n";
const std::string kClientKeyPem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIsecretkey\n-----END EC PRIVATE KEY-----\n";

void write(const fs::path& path, const std::string& content) {
  files::ensure_dir(path.parent_path(), 0700);
  files::write_atomic(path, content, 0600);
}

// The byoc::Error `f` throws, for its kind, code and field together.
template <typename F>
std::optional<Error> thrown(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

// ---- In-cluster ----------------------------------------------------------

class InClusterConfig : public ::testing::Test {
 protected:
  InClusterConfig() {
    write(dir_.path() / "token", "token-one\n");
    write(dir_.path() / "ca.crt", kCaPem);
    write(dir_.path() / "namespace", "byoc-system\n");
    environment_ = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
  }

  InClusterSources sources() {
    InClusterSources sources;
    sources.service_account_dir = dir_.path();
    sources.getenv = [this](const char* name) -> std::optional<std::string> {
      auto it = environment_.find(name);
      if (it == environment_.end()) return std::nullopt;
      return it->second;
    };
    return sources;
  }

  TempDir dir_{"byoc-kube-sa"};
  std::map<std::string, std::string> environment_;
};

TEST_F(InClusterConfig, ServerCaTokenAndNamespaceFromTheServiceAccount) {
  ClientConfig config = in_cluster_config(sources());
  EXPECT_EQ(config.server, "https://10.96.0.1:443");
  EXPECT_EQ(config.ca_pem, kCaPem);
  ASSERT_TRUE(config.token);
  EXPECT_EQ(config.token(), "token-one");
  EXPECT_TRUE(config.client_cert_pem.empty());
  EXPECT_EQ(in_cluster_namespace(sources()), "byoc-system");
}

TEST_F(InClusterConfig, WithoutAClockTheRotatedTokenIsReadOnTheNextCall) {
  ClientConfig config = in_cluster_config(sources());
  EXPECT_EQ(config.token(), "token-one");
  write(dir_.path() / "token", "token-two");
  EXPECT_EQ(config.token(), "token-two");
}

TEST_F(InClusterConfig, WithAClockTheTokenIsKeptForAMinute) {
  ManualClock clock;
  InClusterSources with_clock = sources();
  with_clock.clock = &clock;
  ClientConfig config = in_cluster_config(with_clock);
  EXPECT_EQ(config.token(), "token-one");
  write(dir_.path() / "token", "token-two");
  clock.advance(std::chrono::seconds(59));
  EXPECT_EQ(config.token(), "token-one");
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(config.token(), "token-two");
}

TEST_F(InClusterConfig, AnIpv6ServiceHostIsBracketed) {
  environment_["KUBERNETES_SERVICE_HOST"] = "fd00:10:96::1";
  EXPECT_EQ(in_cluster_config(sources()).server, "https://[fd00:10:96::1]:443");
}

TEST_F(InClusterConfig, WithoutTheServiceEnvironmentItIsNotInACluster) {
  environment_.erase("KUBERNETES_SERVICE_HOST");
  auto error = thrown([&] { in_cluster_config(sources()); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_not_in_cluster");
  EXPECT_EQ(error->field(), "KUBERNETES_SERVICE_HOST");

  environment_["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
  environment_["KUBERNETES_SERVICE_PORT"] = "";
  EXPECT_EQ(error_code([&] { in_cluster_config(sources()); }), "kube_not_in_cluster");
  environment_["KUBERNETES_SERVICE_PORT"] = "https";
  EXPECT_EQ(error_code([&] { in_cluster_config(sources()); }), "kube_not_in_cluster");
}

TEST_F(InClusterConfig, AnEmptyOrMissingTokenIsRefusedAtLoad) {
  write(dir_.path() / "token", " \n");
  auto error = thrown([&] { in_cluster_config(sources()); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_service_account_invalid");
  EXPECT_EQ(error->field(), "token");
  EXPECT_NE(std::string(error->what()).find("is empty"), std::string::npos) << error->what();

  fs::remove(dir_.path() / "token");
  EXPECT_EQ(error_code([&] { in_cluster_config(sources()); }), "kube_service_account_invalid");
}

TEST_F(InClusterConfig, ATokenGoneLaterIsUnavailableAtTheCall) {
  ClientConfig config = in_cluster_config(sources());
  write(dir_.path() / "token", "");
  auto error = thrown([&] { config.token(); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::kUnavailable);
}

TEST_F(InClusterConfig, AMissingOrBogusCaOrNamespaceIsRefused) {
  write(dir_.path() / "ca.crt", "not a certificate");
  EXPECT_EQ(error_code([&] { in_cluster_config(sources()); }), "kube_service_account_invalid");
  fs::remove(dir_.path() / "ca.crt");
  EXPECT_EQ(error_code([&] { in_cluster_config(sources()); }), "kube_service_account_invalid");

  write(dir_.path() / "namespace", "Not_A_Namespace");
  EXPECT_EQ(error_code([&] { in_cluster_namespace(sources()); }), "kube_service_account_invalid");
  fs::remove(dir_.path() / "namespace");
  EXPECT_EQ(error_code([&] { in_cluster_namespace(sources()); }), "kube_service_account_invalid");
}

// ---- Kubeconfig ----------------------------------------------------------

// Lines of a cluster's or user's body, indented under it.
std::string body(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += "    " + line + "\n";
  return text;
}

// A kubeconfig with one cluster "eks", one user "admin" and two contexts:
// "dev" (current, namespace analytics) and "ops" (no namespace).
std::string kubeconfig(const std::string& cluster_body, const std::string& user_body,
                       const std::string& server = "https://ABC.gr7.eu-west-1.eks.amazonaws.com") {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "current-context: dev\n"
         "clusters:\n"
         "- name: eks\n"
         "  cluster:\n"
         "    server: " + server + "\n" + cluster_body +
         "contexts:\n"
         "- name: dev\n"
         "  context:\n"
         "    cluster: eks\n"
         "    user: admin\n"
         "    namespace: analytics\n"
         "- name: ops\n"
         "  context:\n"
         "    cluster: eks\n"
         "    user: admin\n"
         "users:\n"
         "- name: admin\n"
         "  user:\n" + user_body;
}

const std::string kCaData = body({"certificate-authority-data: " + crypto::base64(kCaPem)});
const std::string kTokenUser = body({"token: secret-token-abc"});

class KubeconfigConfig : public ::testing::Test {
 protected:
  fs::path write_config(const std::string& text) {
    write(path_, text);
    return path_;
  }
  std::optional<Error> load_error(const std::string& text, const std::string& context = "") {
    write_config(text);
    return thrown([&] { kubeconfig_config(path_, context); });
  }

  TempDir dir_{"byoc-kubeconfig"};
  fs::path path_ = dir_.path() / "kube" / "config";
};

TEST_F(KubeconfigConfig, TokenAndCaDataOfTheCurrentContext) {
  KubeconfigResult result = kubeconfig_config(write_config(kubeconfig(kCaData, kTokenUser)));
  EXPECT_EQ(result.context, "dev");
  EXPECT_EQ(result.namespace_name, "analytics");
  EXPECT_EQ(result.client.server, "https://ABC.gr7.eu-west-1.eks.amazonaws.com");
  EXPECT_EQ(result.client.ca_pem, kCaPem);
  ASSERT_TRUE(result.client.token);
  EXPECT_EQ(result.client.token(), "secret-token-abc");
  EXPECT_TRUE(result.client.client_cert_pem.empty());
}

TEST_F(KubeconfigConfig, ANamedContextWinsOverCurrentContext) {
  KubeconfigResult result = kubeconfig_config(write_config(kubeconfig(kCaData, kTokenUser)), "ops");
  EXPECT_EQ(result.context, "ops");
  EXPECT_EQ(result.namespace_name, "default");  // the context names none
}

TEST_F(KubeconfigConfig, AnUnknownOrUnsetContextIsRefused) {
  auto error = load_error(kubeconfig(kCaData, kTokenUser), "staging");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_context_unknown");
  EXPECT_NE(std::string(error->what()).find("staging"), std::string::npos) << error->what();

  std::string without_current = kubeconfig(kCaData, kTokenUser);
  without_current.erase(without_current.find("current-context: dev\n"), std::string("current-context: dev\n").size());
  error = load_error(without_current);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_context_unknown");
  EXPECT_EQ(error->field(), "current-context");
}

TEST_F(KubeconfigConfig, ACaFileIsRelativeToTheKubeconfigsDirectory) {
  write(path_.parent_path() / "certs" / "ca.crt", kCaPem);
  KubeconfigResult result =
      kubeconfig_config(write_config(kubeconfig(body({"certificate-authority: certs/ca.crt"}), kTokenUser)));
  EXPECT_EQ(result.client.ca_pem, kCaPem);

  fs::remove(path_.parent_path() / "certs" / "ca.crt");
  auto error = load_error(kubeconfig(body({"certificate-authority: certs/ca.crt"}), kTokenUser));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_config_invalid");
  EXPECT_EQ(error->field(), "clusters[0].cluster.certificate-authority");
}

TEST_F(KubeconfigConfig, ATokenFileIsReadAgainForEveryToken) {
  write(path_.parent_path() / "token", "first-token\n");
  KubeconfigResult result = kubeconfig_config(write_config(kubeconfig(kCaData, body({"tokenFile: token"}))));
  EXPECT_EQ(result.client.token(), "first-token");
  write(path_.parent_path() / "token", "second-token\n");
  EXPECT_EQ(result.client.token(), "second-token");
  fs::remove(path_.parent_path() / "token");
  EXPECT_EQ(thrown([&] { result.client.token(); })->kind(), ErrorKind::kUnavailable);

  // Missing at load: refused at load.
  auto error = load_error(kubeconfig(kCaData, body({"tokenFile: token"})));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field(), "users[0].user.tokenFile");
}

TEST_F(KubeconfigConfig, AClientCertificateFromData) {
  KubeconfigResult result = kubeconfig_config(write_config(
      kubeconfig(kCaData, body({"client-certificate-data: " + crypto::base64(kClientCertPem),
                                "client-key-data: " + crypto::base64(kClientKeyPem)}))));
  EXPECT_EQ(result.client.client_cert_pem, kClientCertPem);
  EXPECT_EQ(result.client.client_key_pem, kClientKeyPem);
  EXPECT_FALSE(result.client.token);
}

TEST_F(KubeconfigConfig, AClientCertificateFromFiles) {
  write(path_.parent_path() / "admin.crt", kClientCertPem);
  write(dir_.path() / "admin.key", kClientKeyPem);
  KubeconfigResult result = kubeconfig_config(write_config(kubeconfig(
      kCaData, body({"client-certificate: admin.crt", "client-key: " + (dir_.path() / "admin.key").string()}))));
  EXPECT_EQ(result.client.client_cert_pem, kClientCertPem);
  EXPECT_EQ(result.client.client_key_pem, kClientKeyPem);
}

TEST_F(KubeconfigConfig, ACertificateWithoutItsKeyIsRefused) {
  auto error = load_error(kubeconfig(kCaData, body({"client-certificate-data: " + crypto::base64(kClientCertPem)})));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_config_invalid");
  EXPECT_EQ(error->field(), "users[0].user");
}

TEST_F(KubeconfigConfig, PluginsBasicAuthAndImpersonationAreRefusedByField) {
  const std::map<std::string, std::string> refused = {
      {"exec", "exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n"
               "      args: [eks, get-token, --cluster-name, prod]"},
      {"auth-provider", "auth-provider:\n      name: gcp"},
      {"username", "username: admin"},
      {"password", "password: hunter2"},
      {"as", "as: someone-else"},
  };
  for (const auto& [key, yaml] : refused) {
    auto error = load_error(kubeconfig(kCaData, body({"token: secret-token-abc", yaml})));
    ASSERT_TRUE(error) << key;
    EXPECT_EQ(error->code(), "kube_config_unsupported") << key;
    EXPECT_EQ(error->field(), "users[0].user." + key);
    EXPECT_EQ(std::string(error->what()).find("secret-token-abc"), std::string::npos) << error->what();
    EXPECT_EQ(std::string(error->what()).find("hunter2"), std::string::npos) << error->what();
  }
  EXPECT_NE(error_message([&] { kubeconfig_config(write_config(kubeconfig(kCaData, body({
                                    "exec:", "  command: aws"})))); })
                .find("aws eks get-token"),
            std::string::npos);
}

TEST_F(KubeconfigConfig, SkippingTlsVerificationIsRefused) {
  auto error = load_error(kubeconfig(kCaData + body({"insecure-skip-tls-verify: true"}), kTokenUser));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_config_unsupported");
  EXPECT_EQ(error->field(), "clusters[0].cluster.insecure-skip-tls-verify");
  // Saying false is no request at all.
  EXPECT_NO_THROW(kubeconfig_config(write_config(kubeconfig(kCaData + body({"insecure-skip-tls-verify: false"}),
                                                            kTokenUser))));
}

TEST_F(KubeconfigConfig, AClusterWithoutACaIsRefused) {
  auto error = load_error(kubeconfig("", kTokenUser));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_config_invalid");
  EXPECT_EQ(error->field(), "clusters[0].cluster");
}

TEST_F(KubeconfigConfig, APlainHttpServerOrAServerWithAPathIsRefused) {
  auto error = load_error(kubeconfig(kCaData, kTokenUser, "http://127.0.0.1:8080"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_config_unsupported");
  EXPECT_EQ(error->field(), "clusters[0].cluster.server");
  EXPECT_EQ(load_error(kubeconfig(kCaData, kTokenUser, "https://rancher.example/k8s/clusters/c-1"))->code(),
            "kube_config_unsupported");
  EXPECT_EQ(kubeconfig_config(write_config(kubeconfig(kCaData, kTokenUser, "https://[fd00::1]:6443/"))).client.server,
            "https://[fd00::1]:6443");
}

TEST_F(KubeconfigConfig, MalformedYamlIsAClearError) {
  auto error = load_error("clusters:\n- name: eks\n  cluster: {server: https://x\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_config_invalid");
  EXPECT_NE(std::string(error->what()).find("not valid YAML: line"), std::string::npos) << error->what();

  EXPECT_EQ(load_error("just a string\n")->code(), "kube_config_invalid");
  EXPECT_EQ(load_error("")->code(), "kube_config_invalid");
  // Deep nesting: refused by yaml-cpp's depth guard, not a stack overflow.
  error = load_error(std::string(100'000, '[') + std::string(100'000, ']'));
  ASSERT_TRUE(error);
  EXPECT_NE(std::string(error->what()).find("nests too deeply"), std::string::npos) << error->what();
  EXPECT_EQ(load_error("apiVersion: v1\nkind: Pod\n")->field(), "kind");
  EXPECT_EQ(load_error("current-context: dev\n"
                       "contexts: [{name: dev, context: {cluster: eks, user: admin}}]\n"
                       "clusters: {eks: 1}\n")
                ->field(),
            "clusters");
}

TEST_F(KubeconfigConfig, BadBase64IsNamedButNotQuoted) {
  auto error = load_error(kubeconfig(kCaData, body({"client-certificate-data: " + crypto::base64(kClientCertPem),
                                                    "client-key-data: not*base64*secretkey"})));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field(), "users[0].user.client-key-data");
  EXPECT_EQ(std::string(error->what()).find("secretkey"), std::string::npos) << error->what();
}

TEST_F(KubeconfigConfig, AmbiguousOrMissingCredentialsAreRefused) {
  write(path_.parent_path() / "token", "file-token");
  EXPECT_EQ(load_error(kubeconfig(kCaData, body({"token: a", "tokenFile: token"})))->field(), "users[0].user");
  EXPECT_EQ(load_error(kubeconfig(kCaData, body({"extensions: []"})))->field(), "users[0].user");
}

TEST_F(KubeconfigConfig, RepeatedNamesAreRefused) {
  std::string text = kubeconfig(kCaData, kTokenUser) + "- name: admin\n  user:\n    token: other\n";
  auto error = load_error(text);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field(), "users[1].name");
}

TEST_F(KubeconfigConfig, OversizedFilesAndListsAreRefused) {
  std::string text = kubeconfig(kCaData, kTokenUser) + "# " + std::string(kMaxKubeconfigBytes, 'x') + "\n";
  auto error = load_error(text);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_config_invalid");
  EXPECT_NE(std::string(error->what()).find("larger than"), std::string::npos) << error->what();

  std::string many_users = kubeconfig(kCaData, kTokenUser);
  for (size_t i = 0; i < kMaxKubeconfigListEntries; ++i)
    many_users += "- name: u" + std::to_string(i) + "\n  user:\n    token: t\n";
  EXPECT_EQ(load_error(many_users)->field(), "users");
}

TEST_F(KubeconfigConfig, AMissingFileIsAClearError) {
  auto error = thrown([&] { kubeconfig_config(dir_.path() / "nope"); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), "kube_config_invalid");
  EXPECT_NE(std::string(error->what()).find("cannot be read"), std::string::npos) << error->what();
}

}  // namespace
}  // namespace byoc::kube
