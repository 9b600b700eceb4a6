// Drives the real route handlers in-process: a fresh store (SQLite or
// PostgreSQL, testing/test_store.h), the real router, a responder that
// captures the answer. No sockets, no processes but the database's.
#pragma once

#include <future>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/work_pool.h"
#include "cloud/external/external_driver.h"
#include "server/admission.h"
#include "server/audit.h"
#include "server/audit_trail.h"
#include "server/context.h"
#include "server/dispatcher.h"
#include "server/router.h"
#include "server/routes.h"
#include "server/tokens.h"
#include "testing/test_store.h"
#include "testing/testing.h"

namespace byoc::server::test {

struct Answer {
  int status = 0;
  nlohmann::json body;
};

class ApiHarness {
 public:
  ApiHarness();
  ~ApiHarness();

  Answer call(const std::string& method, const std::string& target, const std::string& body = "",
              const std::string& content_type = "application/json", const std::string& token = "<admin>",
              const std::string& idempotency_key = "");
  // Sends a request built by hand (e.g. with a verified agent certificate).
  Answer send(HttpRequest req);
  // The body of a GET as admin, as it came (text answers); "" unless 200.
  std::string call_text(const std::string& method, const std::string& target);
  // As call(), answered later (e.g. while the store pool is held up).
  std::future<Answer> call_async(const std::string& method, const std::string& target, const std::string& body);
  std::vector<RouteSpec> routes() const { return router_.routes(); }
  // Every audit record handed to the sink, in order.
  std::vector<AuditRecord> audited();
  Answer call_json(const std::string& method, const std::string& target, const nlohmann::json& body) {
    return call(method, target, body.dump());
  }
  ServerContext& context() { return *ctx_; }
  access::AuditLogs& audit_logs() { return *audit_logs_; }
  // Rows in the store, to prove a refused request changed nothing.
  size_t rows();

  ManualClock clock;
  std::string admin_token;
  std::vector<std::string> enqueued;
  std::unique_ptr<store::Store> store;

 private:
  HttpRequest request(const std::string& method, const std::string& target, const std::string& body,
                      const std::string& content_type, const std::string& token,
                      const std::string& idempotency_key) const;
  HttpResponse exchange(HttpRequest req);
  testing::TempDir dir_;
  testing::TestStore test_store_{dir_.path()};
  std::unique_ptr<WorkPool> pool_;
  ServerIdentity identity_;
  cloud::ExternalDriver driver_;
  // aws: its onboarding and access check, in an environment with no AWS
  // configuration (a check ends before any call).
  std::unique_ptr<cloud::CloudDriver> aws_driver_;
  std::unique_ptr<ServerContext> ctx_;
  Router router_;
  std::unique_ptr<access::AuditLogs> audit_logs_;
  std::unique_ptr<AuditTrail> trail_;
  // The real audit trail, and every record handed to it, in order.
  struct RecordingSink final : AuditSink {
    void write_in(store::Transaction& tx, const AuditRecord& r) override { trail->write_in(tx, r); }
    void record(const AuditRecord& r, bool written, std::function<void()> done) override {
      {
        std::lock_guard lock(mutex);
        records.push_back(r);
      }
      trail->record(r, written, std::move(done));
    }
    AuditTrail* trail = nullptr;
    std::mutex mutex;
    std::vector<AuditRecord> records;
  } audit_;
  std::unique_ptr<StoreAdmission> admission_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

}  // namespace byoc::server::test
