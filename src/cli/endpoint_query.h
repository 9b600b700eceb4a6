// Sending one SQL query to a service endpoint the way a user's curl would:
// HTTPS POST to the endpoint's root, trusting the environment's CA, with
// HTTP Basic credentials (which ClickHouse's HTTP interface accepts).
// `byoc up` uses it to see that a service really answers before saying ready.
// Thread-safe (no shared state; one http::Client per call).
#pragma once

#include <chrono>
#include <string>

#include "base/http_client.h"

namespace byoc::cli {

// "Basic " + base64("user:password") (RFC 7617, standard alphabet, padded).
std::string basic_authorization(const std::string& user, const std::string& password);

// Throws byoc::Error (unavailable) when the endpoint can't be reached or its
// certificate doesn't verify against `ca_pem`.
http::Response query_endpoint(const std::string& endpoint, const std::string& ca_pem, const std::string& user,
                              const std::string& password, const std::string& sql,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The same through a service's support gateway: authenticated by the client
// certificate alone (the gateway refuses any other credential).
http::Response query_support_gateway(const std::string& gateway, const std::string& ca_pem,
                                     const std::string& certificate_pem, const std::string& key_pem,
                                     const std::string& sql,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace byoc::cli
