#include "cloud/aws/session.h"

#include "base/error.h"
#include "cloud/aws/endpoints.h"

namespace byoc::aws {

Session::Session(EnvLookup env, const Clock& clock, std::string region)
    : env_(std::move(env)), clock_(clock), region_(std::move(region)) {
  const std::string home = env_("HOME").value_or("");
  if (region_.empty()) region_ = configured_region(env_, home);
  if (region_.empty())
    throw Error::Invalid("aws_region_missing", "no AWS region: give one, or set AWS_REGION", "AWS_REGION");
  https_ = make_curl_transport(read_ca_bundle(env_("AWS_CA_BUNDLE")));
  local_ = make_curl_transport();
  ClientOptions sts_options;
  sts_options.service = Service::kSts;
  sts_options.region = region_;
  sts_options.env = env_;
  sts_options.transport = https_.get();
  sts_options.clock = &clock_;
  sts_ = std::make_unique<Sts>(sts_options);
  ChainOptions chain;
  chain.env = env_;
  chain.home = home;
  chain.imds = local_.get();
  chain.container = local_.get();
  chain.sts = sts_.get();
  chain.clock = &clock_;
  credentials_ = default_credentials_chain(std::move(chain));
}

ClientOptions Session::options(Service service) const {
  ClientOptions o;
  o.service = service;
  o.region = region_;
  o.env = env_;
  o.credentials = credentials_;
  o.transport = https_.get();
  o.clock = &clock_;
  return o;
}

}  // namespace byoc::aws
