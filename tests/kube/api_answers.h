// A stand-in Kubernetes API server (aws/fake_aws.h's listener) for the kube
// client's tests: a client configured for it, and its answers written out as
// the API server writes them.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "aws/fake_aws.h"
#include "kube/client.h"

namespace byoc::testing {

// A client of `api` with `token`, whose retries are recorded in `sleeps`
// (never waited for) with a fixed jitter.
inline kube::ClientConfig stand_in_config(const FakeAws& api, std::function<std::string()> token,
                                          std::vector<std::chrono::milliseconds>& sleeps) {
  kube::ClientConfig c;
  c.server = api.url();
  c.ca_pem = api.ca_pem();
  c.token = std::move(token);
  c.sleep = [&sleeps](std::chrono::milliseconds d) { sleeps.push_back(d); };
  c.jitter = [] { return 0.5; };
  return c;
}

inline CannedResponse answer(int status, const nlohmann::json& body,
                             std::vector<std::pair<std::string, std::string>> headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  return {status, std::move(headers), body.dump()};
}

// A Status object (metav1.Status) of a failure.
inline CannedResponse status_answer(int code, const std::string& reason, const std::string& message) {
  return answer(code, {{"kind", "Status"},
                       {"apiVersion", "v1"},
                       {"metadata", nlohmann::json::object()},
                       {"status", "Failure"},
                       {"message", message},
                       {"reason", reason},
                       {"code", code}});
}

// Answers from `script` in turn, the last one again and again.
inline FakeAws::Handler in_turn(std::vector<CannedResponse> script) {
  auto next = std::make_shared<std::atomic<size_t>>(0);
  return [script = std::move(script), next](const RecordedRequest&) {
    size_t i = (*next)++;
    return script[std::min(i, script.size() - 1)];
  };
}

}  // namespace byoc::testing
