#include "agent/runtimes/local/probes.h"

#include <chrono>

#include "base/error.h"
#include "base/http_client.h"

namespace byoc::agent::local {
namespace {

constexpr std::chrono::milliseconds kProbeTimeout{2'000};

bool answered_ok(const http::Response& r) { return r.status == 200 && r.body.rfind("Ok.", 0) == 0; }

}  // namespace

bool clickhouse_answers(int http_port) {
  if (http_port <= 0) return false;
  try {
    http::Client client;
    http::Request request;
    request.url = "http://127.0.0.1:" + std::to_string(http_port) + "/ping";
    request.timeout = kProbeTimeout;
    return answered_ok(client.send(request));
  } catch (const Error&) {
    return false;
  }
}

EndpointProbe probe_endpoint(int https_port, const std::string& ca_pem) {
  EndpointProbe probe;
  if (https_port <= 0) return probe;
  std::string base = "https://127.0.0.1:" + std::to_string(https_port);
  http::Request request;
  request.source_address = "127.0.0.1";
  request.timeout = kProbeTimeout;
  try {
    // Which config runs must be readable while nginx still serves a
    // certificate the runtime no longer trusts (a rotated environment CA):
    // that is what tells the runtime to reload it. Nothing secret is sent.
    http::Client unverified(http::TlsOptions{.insecure_skip_verify = true});
    request.url = base + "/.byoc/revision";
    http::Response revision = unverified.send(request);
    if (revision.status == 200) probe.revision = revision.body;
  } catch (const Error&) {
    return probe;  // not up (yet)
  }
  try {
    http::Client client(http::TlsOptions{.ca_pem = ca_pem});
    request.url = base + "/ping";
    probe.ping_ok = answered_ok(client.send(request));
  } catch (const Error&) {
    // Not up, or not with a certificate from the environment CA: not ready.
  }
  return probe;
}

}  // namespace byoc::agent::local
