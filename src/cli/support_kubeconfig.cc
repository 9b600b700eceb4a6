#include "cli/support_kubeconfig.h"

#include "base/crypto.h"
#include "base/error.h"

namespace byoc::cli {
using nlohmann::json;

json support_kubeconfig(const SupportKubeconfig& c) {
  const std::string cluster = "byoc-" + c.environment;
  return {{"apiVersion", "v1"},
          {"kind", "Config"},
          {"clusters",
           {{{"name", cluster},
             {"cluster",
              {{"server", c.gateway + "/k8s"}, {"certificate-authority-data", crypto::base64(c.ca_pem)}}}}}},
          {"users",
           {{{"name", c.request_id},
             {"user",
              {{"client-certificate-data", crypto::base64(c.certificate_pem)},
               {"client-key-data", crypto::base64(c.key_pem)}}}}}},
          {"contexts", {{{"name", c.request_id}, {"context", {{"cluster", cluster}, {"user", c.request_id}}}}}},
          {"current-context", c.request_id},
          {"preferences", json::object()}};
}

std::string pick_support_gateway(const json& issued) {
  std::string any;
  auto gateways = issued.is_object() ? issued.find("gateways") : issued.end();
  if (issued.is_object() && gateways != issued.end() && gateways->is_array())
    for (const auto& g : *gateways) {
      auto text = [&](const char* key) {
        auto it = g.is_object() ? g.find(key) : g.end();
        return g.is_object() && it != g.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      if (text("gateway").rfind("https://", 0) != 0) continue;
      if (text("state") == "READY") return text("gateway");
      if (any.empty()) any = text("gateway");
    }
  if (any.empty()) throw Error::NotFound("no service of the environment exposes a support gateway", "service");
  return any;
}

}  // namespace byoc::cli
