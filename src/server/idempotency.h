// Idempotency-Key on POST: the first answer to a (caller, key) pair is stored
// in the same transaction as the change it made; a repeat — also one that
// arrived at the same time and waited for the store lock — gets that answer
// back (secrets redacted) and changes nothing. Reusing a key for a different
// request is a 422.
#pragma once

#include <functional>

#include "server/auth.h"
#include "server/http.h"
#include "store/store.h"

namespace byoc::server {

// Runs `mutate` unless the request's Idempotency-Key was seen before; call it
// inside the request's transaction, after authentication. Sets *replayed.
HttpResponse idempotent(store::Transaction& tx, const Principal& who, const HttpRequest& request, int64_t now,
                        const std::function<HttpResponse()>& mutate, bool* replayed);

}  // namespace byoc::server
