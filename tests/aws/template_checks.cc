#include "template_checks.h"

#include <functional>

namespace byoc::aws::testing {
namespace {

using nlohmann::json;

const std::set<std::string>& pseudo_parameters() {
  static const std::set<std::string> names = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue",
                                              "AWS::Partition", "AWS::Region",           "AWS::StackId",
                                              "AWS::StackName", "AWS::URLSuffix"};
  return names;
}

// The types the templates use whose schema says taggable (tagging.taggable).
const std::set<std::string>& taggable_types() {
  static const std::set<std::string> types = {
      "AWS::EC2::VPC",          "AWS::EC2::Subnet",         "AWS::EC2::InternetGateway",
      "AWS::EC2::EIP",          "AWS::EC2::NatGateway",     "AWS::EC2::RouteTable",
      "AWS::EC2::VPCEndpoint",  "AWS::EC2::SecurityGroup",  "AWS::EC2::VPCEndpointService",
      "AWS::IAM::Role",         "AWS::EKS::Cluster",        "AWS::EKS::Nodegroup",      "AWS::EKS::Addon",
      "AWS::S3::Bucket",        "AWS::Logs::LogGroup",      "AWS::ElasticLoadBalancingV2::LoadBalancer"};
  return types;
}

void walk(const json& node, const std::function<void(const json&)>& visit) {
  visit(node);
  if (node.is_object() || node.is_array())
    for (const auto& child : node) walk(child, visit);
}

// A top-level section, or an empty object when the template has none.
const json& section(const json& tmpl, const char* name) {
  static const json empty = json::object();
  return tmpl.contains(name) ? tmpl[name] : empty;
}

bool has_byoc_tag(const json& tags) {
  if (tags.is_object()) return tags.contains("byoc") && tags["byoc"] == "true";
  if (!tags.is_array()) return false;
  for (const auto& t : tags)
    if (t.value("Key", "") == "byoc" && t.value("Value", "") == "true") return true;
  return false;
}

}  // namespace

std::vector<std::string> unresolved_references(const json& tmpl) {
  std::set<std::string> resources, parameters, conditions;
  for (auto& [name, _] : section(tmpl, "Resources").items()) resources.insert(name);
  for (auto& [name, _] : section(tmpl, "Parameters").items()) parameters.insert(name);
  for (auto& [name, _] : section(tmpl, "Conditions").items()) conditions.insert(name);
  auto is_value = [&](const std::string& n) {
    return resources.count(n) || parameters.count(n) || pseudo_parameters().count(n);
  };
  std::vector<std::string> problems;
  auto check_intrinsics = [&](const json& node) {
    if (!node.is_object()) return;
    if (node.contains("Ref") && node["Ref"].is_string() && !is_value(node["Ref"]))
      problems.push_back("Ref " + node["Ref"].get<std::string>());
    if (node.contains("Fn::GetAtt")) {
      const json& g = node["Fn::GetAtt"];
      if (!g.is_array() || g.size() != 2 || !resources.count(g[0].get<std::string>()))
        problems.push_back("Fn::GetAtt " + g.dump());
    }
    if (node.contains("Fn::Sub")) {
      const json& s = node["Fn::Sub"];
      std::string text = s.is_string() ? s.get<std::string>() : s[0].get<std::string>();
      std::set<std::string> locals;
      if (s.is_array())
        for (auto& [k, _] : s[1].items()) locals.insert(k);
      for (size_t at = text.find("${"); at != std::string::npos; at = text.find("${", at + 2)) {
        size_t end = text.find('}', at);
        std::string name = text.substr(at + 2, end - at - 2);
        if (name.rfind("!", 0) == 0) continue;  // ${!Literal}
        std::string base = name.substr(0, name.find('.'));
        bool ok = locals.count(name) || (name.find('.') != std::string::npos && !name.starts_with("AWS::")
                                             ? resources.count(base) > 0
                                             : is_value(name));
        if (!ok) problems.push_back("Fn::Sub ${" + name + "}");
      }
    }
    if (node.contains("Fn::If")) {
      const json& f = node["Fn::If"];
      if (!f.is_array() || f.size() != 3 || !conditions.count(f[0].get<std::string>()))
        problems.push_back("Fn::If " + f.dump());
    }
  };
  for (const char* name : {"Resources", "Outputs", "Conditions"})
    walk(section(tmpl, name), check_intrinsics);
  // {"Condition": "Name"} inside Conditions refers to another condition.
  walk(section(tmpl, "Conditions"), [&](const json& node) {
    if (node.is_object() && node.contains("Condition") && node["Condition"].is_string() &&
        !conditions.count(node["Condition"]))
      problems.push_back("Condition " + node["Condition"].get<std::string>());
  });
  for (const char* part : {"Resources", "Outputs"}) {
    for (auto& [name, entry] : section(tmpl, part).items()) {
      if (entry.contains("Condition") && !conditions.count(entry["Condition"].get<std::string>()))
        problems.push_back(name + ": Condition " + entry["Condition"].dump());
      if (!entry.contains("DependsOn")) continue;
      json deps = entry["DependsOn"].is_array() ? entry["DependsOn"] : json::array({entry["DependsOn"]});
      for (const auto& d : deps)
        if (!resources.count(d.get<std::string>())) problems.push_back(name + ": DependsOn " + d.dump());
    }
  }
  return problems;
}

std::vector<const json*> policy_documents(const json& tmpl) {
  std::vector<const json*> docs;
  walk(tmpl, [&](const json& node) {
    if (node.is_object() && node.contains("Statement") && node.contains("Version")) docs.push_back(&node);
  });
  return docs;
}

std::vector<std::string> wildcard_actions(const json& tmpl) {
  std::vector<std::string> found;
  for (const json* doc : policy_documents(tmpl)) {
    for (const auto& st : (*doc)["Statement"]) {
      if (st.contains("NotAction")) found.push_back("NotAction " + st["NotAction"].dump());
      json actions = st["Action"].is_array() ? st["Action"] : json::array({st["Action"]});
      for (const auto& a : actions)
        if (!a.is_string() || a.get<std::string>().find('*') != std::string::npos) found.push_back(a.dump());
    }
  }
  return found;
}

std::vector<std::string> untagged_resources(const json& tmpl) {
  std::vector<std::string> found;
  for (auto& [name, r] : tmpl["Resources"].items()) {
    if (!taggable_types().count(r["Type"])) continue;
    if (!r.contains("Properties") || !has_byoc_tag(r["Properties"].value("Tags", json()))) found.push_back(name);
  }
  return found;
}

std::set<std::string> granted_actions(const json& tmpl) {
  std::set<std::string> granted;
  for (auto& [_, r] : tmpl["Resources"].items()) {
    if (r["Type"] != "AWS::IAM::ManagedPolicy") continue;
    for (const auto& st : r["Properties"]["PolicyDocument"]["Statement"]) {
      if (st["Effect"] != "Allow") continue;
      json actions = st["Action"].is_array() ? st["Action"] : json::array({st["Action"]});
      for (const auto& a : actions) granted.insert(a.get<std::string>());
    }
  }
  return granted;
}

}  // namespace byoc::aws::testing
