// CloudFormation as tests see it, behind FakeAws: CreateStack, UpdateStack,
// DeleteStack, DescribeStacks (with the template's outputs), GetTemplate
// and DescribeStackEvents in the query
// protocol's official shapes, with CloudFormation's rules that matter to a
// driver — a name is taken while a stack of it lives (AlreadyExistsException),
// a repeat with the same ClientRequestToken is the same request (the same
// StackId, nothing more), a deleted stack is found by id only, and every
// event of an operation carries its token, and parameters take their
// defaults, given values or (UsePreviousValue) the ones the stack had. Each DescribeStacks moves a stack
// in progress one step on, so a test drives time by looking.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fake_aws.h"

namespace byoc::testing {

class StandInCloudFormation {
 public:
  struct Event {
    std::string logical_id, type, status, reason, token;
  };
  struct Stack {
    std::string id, name, status, template_body;
    std::vector<std::pair<std::string, std::string>> tags;
    std::map<std::string, std::string> parameters;  // each declared: given, kept or its default
    std::vector<Event> events;  // oldest first
  };

  // Answers a CloudFormation request; nullopt for any other.
  std::optional<CannedResponse> operator()(const RecordedRequest& request);

  // With a resource set, creations fail at it (and roll back) with `reason`.
  void fail_creation_at(std::string logical_id, std::string reason);
  // A stack made by someone else, as it stands.
  void put_stack(const std::string& name, const std::string& status,
                 const std::vector<std::pair<std::string, std::string>>& tags);
  // The stack `name` as an older byoc left it: this template, its spec tag this.
  void rewrite(const std::string& name, const std::string& template_body, const std::string& spec_tag);
  // The AWS::EKS::Nodegroup resources updates dropped from a stack, each
  // with whether its DeletionPolicy kept the group (Retain) or deleted it.
  std::vector<std::pair<std::string, bool>> dropped_node_groups() const;
  // Called when a CreateStack was taken, before its answer is sent.
  void on_create(std::function<void()> hook);
  std::vector<Stack> stacks() const;
  // Stacks ever created (a repeat with the same token creates none).
  int created() const;

 private:
  CannedResponse create(std::map<std::string, std::string>& form);
  CannedResponse update(std::map<std::string, std::string>& form);
  CannedResponse remove(std::map<std::string, std::string>& form);
  CannedResponse describe(std::map<std::string, std::string>& form);
  CannedResponse events(std::map<std::string, std::string>& form);
  CannedResponse get_template(std::map<std::string, std::string>& form);
  Stack* find(const std::string& name_or_id);
  void step(Stack& stack);

  mutable std::mutex mutex_;
  std::vector<Stack> stacks_;
  std::string fail_at_, fail_reason_;
  std::function<void()> on_create_;
  std::vector<std::pair<std::string, bool>> dropped_;
};

}  // namespace byoc::testing
