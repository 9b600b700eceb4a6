// Client: calls one AWS service's operations the way the AWS SDKs do —
// serialize by the model (protocol.h), resolve the endpoint (endpoints.h),
// sign (sigv4.h), send (transport.h), parse, and retry throttling and
// transient failures with backoff and jitter (retry.h), waiting on the
// injected clock. Every attempt is reported to `on_attempt` (the contract
// tests' call log, and the audit of what byoc did in a customer's account).
//
// Not thread-safe (its transport isn't): one client per thread or per task.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/error.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/models.h"
#include "cloud/aws/protocol.h"
#include "cloud/aws/retry.h"
#include "cloud/aws/transport.h"

namespace byoc::aws {

// An error AWS answered with, after the retries it deserved. Its byoc kind
// follows the status: 403 and AccessDenied* → kForbidden, other 4xx →
// kInvalid (code "aws_<Code>"), throttling and 5xx → kUnavailable.
class AwsCallError : public Error {
 public:
  AwsCallError(std::string service, std::string operation, AwsError error);
  const std::string& service() const { return service_; }
  const std::string& operation() const { return operation_; }
  const AwsError& aws() const { return error_; }

 private:
  std::string service_, operation_;
  AwsError error_;
};

// One attempt, as sent: what the call log records.
struct Attempt {
  std::string service;    // the model's serviceId
  std::string operation;
  int number = 1;         // 1 for the first try
  std::string url;
  int status = 0;         // 0: no answer
  std::string error_code; // "" when it succeeded
};

struct ClientOptions {
  Service service = Service::kSts;
  std::string region;
  EnvLookup env = process_environment();               // AWS_ENDPOINT_URL*
  std::shared_ptr<CredentialsProvider> credentials;    // null: the request goes unsigned
  Transport* transport = nullptr;                      // required
  const Clock* clock = nullptr;                        // required: signing time and waits
  RetryPolicy retry;
  std::function<double()> jitter;                      // uniform in [0, 1); random by default
  // How a retry waits; by default clock->sleep_for (tests advance a ManualClock here).
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::string()> idempotency_token;      // protocol.h's default when empty
  std::function<void(const Attempt&)> on_attempt;
  std::chrono::milliseconds timeout{30'000};           // per attempt
};

class Client {
 public:
  explicit Client(ClientOptions options);

  // The operation's result as JSON (see protocol.h for the shapes). Throws
  // AwsCallError for an AWS error, byoc::Error kInvalid for parameters that
  // don't fit the model, kUnavailable when no answer came after the retries.
  nlohmann::json call(std::string_view operation, const nlohmann::json& params = nlohmann::json::object());

  const ServiceModel& model() const { return model_; }
  const std::string& region() const { return options_.region; }

 private:
  ClientOptions options_;
  const ServiceModel& model_;
};

}  // namespace byoc::aws
