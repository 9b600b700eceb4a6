#include "cli/render_kubernetes_command.h"

#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"
#include "model/protocol.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::cli {
namespace {

namespace k8s = render::kubernetes;

struct Flags {
  std::string desired;
  std::vector<std::string> profiles;
  k8s::KubernetesOptions options;
};

model::DesiredState read_desired(const std::string& path) {
  auto text = files::read_if_exists(path);
  if (!text) throw Error::Invalid("unreadable_file", "can't read the --desired file '" + path + "'", "desired");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error::BadRequest("invalid_json", "the --desired file '" + path + "' is not JSON: " + e.what(), "desired");
  }
  return model::parse_desired_state(j);
}

std::map<std::string, std::string> parse_profiles(const std::vector<std::string>& values) {
  std::map<std::string, std::string> out;
  for (const auto& value : values) {
    auto eq = value.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
      throw Error::Invalid("invalid_value", "--profile takes SERVICE=INSTANCE_TYPE, not '" + value + "'", "profile");
    out[value.substr(0, eq)] = value.substr(eq + 1);
  }
  return out;
}

}  // namespace

void add_render_kubernetes_command(CLI::App& agent, CommandSet& commands) {
  auto f = std::make_shared<Flags>();
  auto* sub = agent.add_subcommand(
      "render-kubernetes",
      "Print what the Kubernetes runtime would apply for a desired state, as one List (no cluster needed)");
  sub->add_option("--desired", f->desired, "The desired state, as the protocol's JSON")->required();
  sub->add_option("--namespace", f->options.namespace_name, "The namespace of every object")->capture_default_str();
  sub->add_option("--registry", f->options.registry,
                  "ClickHouse's image repository, without tag (default: docker.io/yandex/clickhouse-server before "
                  "21, docker.io/clickhouse/clickhouse-server after)");
  sub->add_option("--storage-class", f->options.storage_class, "The StorageClass of the data volumes")
      ->capture_default_str();
  sub->add_option("--profile", f->profiles,
                  "SERVICE=INSTANCE_TYPE: the node group a service's replicas select (repeatable; default: any "
                  "ClickHouse node group)");
  sub->add_flag("--support-gateway", f->options.support_gateway.enabled,
                "Give every endpoint the support gateway, as when the customer's policy allows support access");
  // `byoc agent` itself needs --state-dir and --server and runs the agent;
  // this subcommand runs nothing of it: once it is named, the agent's
  // requirements and action give way to its own.
  sub->preparse_callback([&agent](size_t) {
    for (CLI::Option* option : agent.get_options()) option->required(false);
    agent.callback(nullptr);
  });
  on_run(sub, commands, [f, &io = commands.io] {
    k8s::KubernetesOptions options = f->options;
    options.profiles = parse_profiles(f->profiles);
    io.out << k8s::kubernetes_list(k8s::render_kubernetes(read_desired(f->desired), options)).dump(2) << "\n";
    return 0;
  });
}

}  // namespace byoc::cli
