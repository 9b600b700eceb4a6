// An AWS service's API model, in the JSON form botocore ships (`metadata`,
// `operations`, `shapes`, every shape named): what a request of each operation
// carries and where each member goes on the wire, and what its answer holds.
// The protocol code (protocol.h) is driven entirely by it, so a new operation
// is a line of data, not code. The models byoc calls are kept trimmed to the
// operations it uses, and rewritten from aws-sdk-js's compact form into this
// one, in src/cloud/aws/models/ (scripts/trim-aws-models.py).
//
// Immutable after parse(); thread-safe to share.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace byoc::aws {

class ServiceModel {
 public:
  // `model` holds `metadata` (protocol, apiVersion, endpointPrefix,
  // serviceId, signingName, targetPrefix, jsonVersion…), `operations` and
  // `shapes`. Throws byoc::Error kInvalid when a part is missing or a shape
  // reference does not resolve.
  static ServiceModel parse(const nlohmann::json& model);
  static ServiceModel parse_text(std::string_view json_text);

  ServiceModel(const ServiceModel&);
  ServiceModel& operator=(const ServiceModel&);
  ServiceModel(ServiceModel&&) noexcept;
  ServiceModel& operator=(ServiceModel&&) noexcept;
  ~ServiceModel();

  // "query", "ec2", "json", "rest-json" or "rest-xml".
  const std::string& protocol() const;
  const nlohmann::json& metadata() const;
  // An operation (`name`, `http`, `input`, `output`, `errors`…); throws
  // byoc::Error kNotFound for an operation the model doesn't have.
  const nlohmann::json& operation(std::string_view name) const;
  // A shape by name; throws kNotFound.
  const nlohmann::json& shape(std::string_view name) const;

 private:
  ServiceModel();
  struct Data;
  std::shared_ptr<const Data> data_;
};

}  // namespace byoc::aws
