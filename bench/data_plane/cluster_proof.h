// The work both sides of the data-plane benchmark must finish with: a cold
// start counts only once the service does what a replicated service is for.
// Through the endpoint (HTTPS, verified against the environment's CA): an
// ON CLUSTER CREATE TABLE of a ReplicatedMergeTree, which every replica must
// report done, then an INSERT of one row; then each replica, asked directly,
// must hold that row. Anything else throws: a run that can't do this is not
// a valid measurement. Every wait is bounded.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace byoc::bench {

struct ServiceAccess {
  std::string endpoint;               // https://127.0.0.1:PORT
  std::string ca_pem;                 // the CA that issued the endpoint's certificate
  std::string password;               // of the `default` user
  std::string cluster;                // the remote_servers cluster (the service's name)
  std::vector<int> replica_http_ports;  // each replica's own HTTP port, to check it holds the row
};

// When each step finished, measured from `start` (steady clock).
struct ProofTimes {
  std::chrono::milliseconds ddl_done{0};
  std::chrono::milliseconds insert_done{0};
  std::chrono::milliseconds replicated{0};  // the row counted on every replica
};

ProofTimes prove_replication(const ServiceAccess& service, std::chrono::steady_clock::time_point start);

}  // namespace byoc::bench
