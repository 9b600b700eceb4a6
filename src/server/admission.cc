#include "server/admission.h"

#include "base/error.h"

namespace byoc::server {

bool StoreAdmission::admit_known(const RouteSpec& spec, HttpRequest& request, uint64_t generation) {
  auto who = tokens_.find(request, generation);
  if (!who) return false;
  request.trace->caller = *who;
  // The role checks need no store: a refusal here is as final as from the store.
  std::string organization = addressed_organization(*who, request, spec.access);
  if (must_exist(*who, spec.access) && !organizations_.find(organization, generation)) return false;
  request.trace->organization = std::move(organization);
  return true;
}

void StoreAdmission::admit_from_store(const RouteSpec& spec, HttpRequest& request) {
  // Read before the snapshot begins: what it verifies is at least this
  // current. On a shared store, known to count every commit made before the
  // request came (another server's token revocation included), and so
  // good for a verdict without the store.
  uint64_t generation = store_.generation();
  if (!store_.generation_is_current()) {
    generation = store_.current_generation();
    request.trace->generation = generation;
    if (admit_known(spec, request, generation)) return;
  }
  store_.read([&](store::Transaction& tx) {
    Principal who = tokens_.authenticate(tx, request, generation);
    request.trace->caller = who;
    std::string organization = authorize(tx, who, request, spec.access);
    if (must_exist(who, spec.access)) organizations_.remember(organization, true, generation);
    request.trace->organization = std::move(organization);
  });
}

void StoreAdmission::admit(const RouteSpec& spec, std::shared_ptr<HttpRequest> request,
                           std::function<void(std::exception_ptr)> then) {
  if (!request->trace) request->trace = std::make_shared<RequestTrace>();
  try {
    // Only where the store's generation is current without asking it.
    if (store_.generation_is_current() && admit_known(spec, *request, store_.generation())) return then(nullptr);
  } catch (...) {
    return then(std::current_exception());
  }
  // `spec` lives in the router, which outlives every request.
  pool_.post([this, &spec, request = std::move(request), then = std::move(then)] {
    std::exception_ptr refusal;
    try {
      admit_from_store(spec, *request);
    } catch (...) {
      refusal = std::current_exception();
    }
    then(refusal);
  });
}

}  // namespace byoc::server
