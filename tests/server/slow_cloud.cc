#include "slow_cloud.h"

#include <algorithm>

namespace byoc::controllers::test {

std::string SlowCloud::spec_of(const model::Environment& e) {
  std::string spec = e.cidr + "|" + std::to_string(e.daemonset_cpu_millis) + "|" +
                     std::to_string(e.daemonset_memory_mib);
  for (const auto& t : e.instance_types) spec += "|" + t;
  return spec;
}

void SlowCloud::settle() {
  MonotonicTime now = clock_.monotonic_time();
  for (auto it = stacks_.begin(); it != stacks_.end();) {
    Stack& s = it->second;
    auto elapsed = now - s.since;
    if (s.phase == Phase::kCreating && s.fails && elapsed >= times_.fail_after) {
      s.phase = Phase::kFailing;
      s.since += times_.fail_after;
    } else if (s.phase == Phase::kCreating && !s.fails && elapsed >= times_.create) {
      s.phase = Phase::kReady;
    } else if (s.phase == Phase::kUpdating && elapsed >= times_.update) {
      s.phase = Phase::kReady;
    } else if (s.phase == Phase::kDeleting && elapsed >= times_.remove) {
      it = stacks_.erase(it);
      continue;
    }
    ++it;
  }
}

SlowCloud::Stack* SlowCloud::newest(const std::string& environment_id) {
  auto [from, to] = stacks_.equal_range(environment_id);
  if (from == to) return nullptr;
  return &std::prev(to)->second;
}

cloud::Observation SlowCloud::observe(const model::Environment& environment) {
  point("observe");
  ++observations;
  settle();
  cloud::Observation o;
  o.look_again = times_.look_again;
  const Stack* newest_stack = newest(environment.id);
  if (!newest_stack) {
    o.reason = "stack_missing";
    return o;
  }
  const Stack& s = *newest_stack;
  o.exists = true;
  o.handle = s.id;
  o.last_token = s.token;
  o.up_to_date = s.spec == spec_of(environment);
  o.ready = s.phase == Phase::kReady;
  bool rolled_back = s.phase == Phase::kFailing && clock_.monotonic_time() - s.since >= times_.rollback;
  if (rolled_back) {
    o.failure = cloud::Failure::kRolledBack;
    o.message = "The following resource(s) failed to create: [NatGateway1]. Rollback requested by user.";
  }
  switch (s.phase) {
    case Phase::kCreating: o.reason = "create_in_progress"; break;
    case Phase::kFailing: o.reason = rolled_back ? "rollback_complete" : "rollback_in_progress"; break;
    case Phase::kUpdating: o.reason = "update_in_progress"; break;
    case Phase::kDeleting: o.reason = "delete_in_progress"; break;
    case Phase::kReady: break;
  }
  return o;
}

std::string SlowCloud::create(const model::Environment& environment, const std::string& token) {
  point("create:before");
  settle();
  if (Stack* s = newest(environment.id)) {
    if (s->token == token) {  // the same request again: nothing new
      point("create:after");
      return s->id;
    }
    if (s->phase == Phase::kFailing) {  // a rolled-back stack is deleted and made anew
      auto [from, to] = stacks_.equal_range(environment.id);
      for (auto it = from; it != to;)
        it = it->second.phase == Phase::kFailing ? stacks_.erase(it) : std::next(it);
    }
  }
  Stack s;
  s.id = "arn:aws:cloudformation:us-east-1:123456789012:stack/byoc-" + environment.id + "/" +
         std::to_string(++stacks_created);
  s.token = token;
  s.spec = spec_of(environment);
  s.since = clock_.monotonic_time();
  if (fail_next_creates > 0) {
    s.fails = true;
    --fail_next_creates;
  }
  std::string id = s.id;
  stacks_.emplace(environment.id, s);
  most_live = std::max(most_live, stacks_.size());
  point("create:after");
  return id;
}

void SlowCloud::update(const model::Environment& environment, const std::string& token) {
  point("update:before");
  settle();
  Stack* found = newest(environment.id);
  if (found && found->token != token && found->phase != Phase::kDeleting) {
    Stack& s = *found;
    s.token = token;
    s.spec = spec_of(environment);
    s.phase = Phase::kUpdating;
    s.since = clock_.monotonic_time();
    ++updates_started;
  }
  point("update:after");
}

void SlowCloud::remove(const model::Environment& environment, const std::string& token) {
  point("remove:before");
  settle();
  auto [from, to] = stacks_.equal_range(environment.id);
  for (auto it = from; it != to; ++it) {
    if (it->second.phase == Phase::kDeleting) continue;
    it->second.token = token;
    it->second.phase = Phase::kDeleting;
    it->second.since = clock_.monotonic_time();
    ++deletes_started;
  }
  point("remove:after");
}

}  // namespace byoc::controllers::test
