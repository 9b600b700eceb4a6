// A Runtime that runs nothing: it records every call so tests can tell what
// the agent asked for, and how often.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/runtime.h"
#include "base/error.h"

namespace byoc::agent::test {

class FakeRuntime final : public Runtime {
 public:
  ServiceStatus apply(const ServiceSpec& spec) override {
    applied.push_back(spec);
    if (fail_applies > 0) {
      --fail_applies;
      throw Error::Internal("disk full");
    }
    if (spec.clickhouse_version != "18.16.1")
      return {spec.name, ServiceState::kFailed, "", "", "unsupported_version", {}};
    running[spec.name] = spec;
    return status_of(spec);
  }
  void remove(const std::string& service) override {
    removed.push_back(service);
    running.erase(service);
  }
  std::vector<ServiceStatus> observe() override {
    std::vector<ServiceStatus> out;
    for (const auto& [name, spec] : running) out.push_back(status_of(spec));
    return out;
  }
  std::vector<std::string> services() override {
    std::vector<std::string> out;
    for (const auto& [name, spec] : running) out.push_back(name);
    return out;
  }
  void supervise() override {}
  void stop_all() override {}

  // The service spec the runtime runs now (what a query would meet).
  const ServiceSpec& spec(const std::string& name) const { return running.at(name); }

  std::vector<ServiceSpec> applied;
  std::vector<std::string> removed;
  std::map<std::string, ServiceSpec> running;
  int fail_applies = 0;

 private:
  static ServiceStatus status_of(const ServiceSpec& spec) {
    ServiceStatus s{spec.name, ServiceState::kReady, "https://127.0.0.1:4443", "", "", {}};
    for (int shard = 1; shard <= spec.shards; ++shard)
      for (int replica = 1; replica <= spec.replicas; ++replica)
        s.replicas.push_back({shard, replica, ReplicaState::kRunning, 0});
    return s;
  }
};

}  // namespace byoc::agent::test
