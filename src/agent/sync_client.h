// SyncClient: the agent's one call to the management plane, POST
// /v1/agent/sync over mTLS with the agent's certificate, pinned to the server
// CA from the join (DESIGN §3). One connection, reused across long-polls.
//
// RetryBackoff: how long to wait after consecutive failures — exponential
// from 500 ms, capped at 30 s, each delay drawn uniformly from the upper
// three quarters of its step (jitter, so agents that lost the same server
// don't come back in lockstep, and never a hot loop).
//
// Threading: neither is thread-safe; the sync loop owns both.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "agent/join.h"
#include "base/http_client.h"
#include "model/protocol.h"

namespace byoc::agent {

class SyncClient {
 public:
  // `cancel` aborts a request in flight (the agent is stopping).
  SyncClient(std::string server_url, const AgentIdentity& identity, const std::atomic<bool>* cancel);

  // Sends the report and returns the server's answer. Throws byoc::Error:
  // kUnavailable when the server can't be reached or answers 5xx; the
  // error's kind for 4xx (e.g. kInvalid when the server rejects the report).
  model::SyncResponse sync(const model::SyncRequest& report);

 private:
  std::string url_;
  const std::atomic<bool>* cancel_;
  http::Client client_;
};

class RetryBackoff {
 public:
  explicit RetryBackoff(uint64_t seed = std::random_device{}(),
                        std::chrono::milliseconds base = std::chrono::milliseconds(500),
                        std::chrono::milliseconds cap = std::chrono::seconds(30));

  // The pause after one more failure.
  std::chrono::milliseconds next_delay();
  // A success: the next failure starts from `base` again.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::mt19937_64 random_;
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  int failures_ = 0;
};

}  // namespace byoc::agent
