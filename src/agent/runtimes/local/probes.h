// The local runtime's readiness probes, all over loopback with short
// timeouts: a replica answers ClickHouse's GET /ping, ZooKeeper answers `ruok`,
// and the endpoint serves
// /ping through nginx over TLS that verifies against the environment CA, and
// tells which config revision it runs. Each call makes its own HTTP client, so
// any thread may probe.
#pragma once

#include <string>

namespace byoc::agent::local {

// GET http://127.0.0.1:<http_port>/ping answered "Ok.".
bool clickhouse_answers(int http_port);

// ZooKeeper's `ruok` four-letter word on 127.0.0.1:<port> answered `imok`
// (the server runs and is not in an error state).
bool zookeeper_answers(int client_port);

struct EndpointProbe {
  bool ping_ok = false;  // /ping through nginx answered "Ok.", over TLS verified against the CA
  // /.byoc/revision, empty if it did not answer 200. Read without verifying
  // the certificate, so a certificate from a previous CA still tells which
  // config runs (and that a reload is due).
  std::string revision;
};

// Probes from 127.0.0.1, the source the endpoint always lets reach these two paths.
EndpointProbe probe_endpoint(int https_port, const std::string& ca_pem);

}  // namespace byoc::agent::local
