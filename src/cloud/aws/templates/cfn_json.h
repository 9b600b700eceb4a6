// Small builders for the CloudFormation JSON the template renderers write:
// intrinsic functions and byoc's tags. Header-only, pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace byoc::aws::cfn {

using nlohmann::json;

inline json ref(const std::string& name) { return {{"Ref", name}}; }
inline json get_att(const std::string& resource, const std::string& attribute) {
  return {{"Fn::GetAtt", json::array({resource, attribute})}};
}
// A string with ${...} substitutions stays a Fn::Sub; a plain one stays plain.
inline json sub(const std::string& text) {
  if (text.find("${") == std::string::npos) return text;
  return {{"Fn::Sub", text}};
}
inline json if_(const std::string& condition, json then, json otherwise) {
  return {{"Fn::If", json::array({condition, std::move(then), std::move(otherwise)})}};
}
inline json no_value() { return ref("AWS::NoValue"); }

// byoc=true, which every onboarding condition keys on, and a Name.
inline json tags(const json& name) {
  return json::array({{{"Key", "byoc"}, {"Value", "true"}}, {{"Key", "Name"}, {"Value", name}}});
}
inline json tags() { return json::array({{{"Key", "byoc"}, {"Value", "true"}}}); }

}  // namespace byoc::aws::cfn
