#include "cluster_proof.h"

#include <optional>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "base/http_client.h"
#include "interrupt.h"

namespace byoc::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kTable = "cold_start";
// A distributed DDL waits for every replica's DDL worker; ClickHouse's own
// limit is 180 s, far past anything a working service needs here.
constexpr std::chrono::seconds kQueryTimeout{20};
// Both sides may send their first query a moment before nginx listens (the
// baseline starts it last, at once) — that is retried until this long.
constexpr std::chrono::seconds kEndpointWait{30};
constexpr std::chrono::seconds kReplicationWait{30};

std::chrono::milliseconds since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
}

http::Request query(const std::string& url, const std::string& password, const std::string& sql) {
  http::Request r;
  r.method = "POST";
  r.url = url + "/";
  r.body = sql;
  r.timeout = kQueryTimeout;
  r.headers = {{"X-ClickHouse-User", "default"}, {"X-ClickHouse-Key", password}};
  return r;
}

// Sends `request` through the endpoint. Retried only when it can't have
// reached ClickHouse: no connection yet, or nginx answering 502 (no upstream
// took it). A ClickHouse error is the answer, not retried.
http::Response through_endpoint(http::Client& client, const http::Request& request) {
  const auto deadline = SteadyClock::now() + kEndpointWait;
  while (true) {
    throw_if_interrupted();
    std::optional<http::Response> response;
    std::string failure;
    try {
      response = client.send(request);
    } catch (const Error& e) {
      failure = e.what();
    }
    if (response && response->status != 502) return *response;
    if (response) failure = "502 from the endpoint";
    if (SteadyClock::now() >= deadline)
      throw Error::Internal("the endpoint " + request.url + " did not take the query: " + failure);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// ON CLUSTER answers one row per host: host, port, status, error, hosts
// remaining, hosts active. Every replica must be there with status 0.
void check_ddl_answer(const http::Response& r, size_t replicas, const std::string& cluster) {
  if (r.status != 200)
    throw Error::Internal("ON CLUSTER " + cluster + " failed (HTTP " + std::to_string(r.status) + "): " + r.body);
  std::istringstream rows(r.body);
  std::string row;
  size_t done = 0;
  while (std::getline(rows, row)) {
    if (row.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream cells(row);
    for (std::string cell; std::getline(cells, cell, '\t');) fields.push_back(cell);
    if (fields.size() < 3 || fields[2] != "0")
      throw Error::Internal("ON CLUSTER " + cluster + ": a host did not apply it: " + row);
    ++done;
  }
  if (done != replicas)
    throw Error::Internal("ON CLUSTER " + cluster + " ran on " + std::to_string(done) + " host(s), not " +
                          std::to_string(replicas) + ": " + r.body);
}

}  // namespace

ProofTimes prove_replication(const ServiceAccess& service, SteadyClock::time_point start) {
  ProofTimes times;
  http::Client endpoint(http::TlsOptions{.ca_pem = service.ca_pem});
  const std::string ddl = "CREATE TABLE " + std::string(kTable) + " ON CLUSTER " + service.cluster +
                          " (id UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/" + kTable +
                          "', '{replica}') ORDER BY id";
  check_ddl_answer(through_endpoint(endpoint, query(service.endpoint, service.password, ddl)),
                   service.replica_http_ports.size(), service.cluster);
  times.ddl_done = since(start);

  http::Response inserted = through_endpoint(
      endpoint, query(service.endpoint, service.password, "INSERT INTO " + std::string(kTable) + " VALUES (1)"));
  if (inserted.status != 200)
    throw Error::Internal("the INSERT through the endpoint failed (HTTP " + std::to_string(inserted.status) +
                          "): " + inserted.body);
  times.insert_done = since(start);

  // Each replica on its own port: the endpoint would answer from whichever
  // it picks, which proves nothing about the other.
  http::Client direct;
  const auto deadline = SteadyClock::now() + kReplicationWait;
  for (int port : service.replica_http_ports) {
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    std::string count;
    while (true) {
      throw_if_interrupted();
      try {
        http::Response r = direct.send(
            query(url, service.password, "SELECT count() FROM " + std::string(kTable)));
        count = r.status == 200 ? trimmed(r.body) : "HTTP " + std::to_string(r.status) + ": " + r.body;
      } catch (const Error& e) {
        count = e.what();
      }
      if (count == "1") break;
      if (SteadyClock::now() >= deadline)
        throw Error::Internal("the row did not reach the replica on port " + std::to_string(port) +
                              " (count: " + count + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  times.replicated = since(start);
  return times;
}

}  // namespace byoc::bench
