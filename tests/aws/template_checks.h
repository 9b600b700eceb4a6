// Structural checks of a rendered CloudFormation template, each returning
// the problems found (empty: none), so a failing test names every one.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace byoc::aws::testing {

// Every Ref, Fn::GetAtt, Fn::Sub ${X}, DependsOn, Condition and Fn::If
// names a resource, parameter, condition or pseudo-parameter of `tmpl`.
std::vector<std::string> unresolved_references(const nlohmann::json& tmpl);

// Every IAM policy document in the template (role trust, inline, managed).
std::vector<const nlohmann::json*> policy_documents(const nlohmann::json& tmpl);

// Actions with a wildcard ("*", "ec2:*", "s3:Get*") or NotAction anywhere.
std::vector<std::string> wildcard_actions(const nlohmann::json& tmpl);

// Resources of a type that takes tags but lacks byoc=true.
std::vector<std::string> untagged_resources(const nlohmann::json& tmpl);

// The actions granted (Effect Allow) by the template's managed policies.
std::set<std::string> granted_actions(const nlohmann::json& tmpl);

}  // namespace byoc::aws::testing
