#include "cloud/driver.h"

namespace byoc::cloud {

const char* failure_code(Failure failure) {
  switch (failure) {
    case Failure::kNone: return "";
    case Failure::kCreateFailed: return "create_failed";
    case Failure::kRolledBack: return "rolled_back";
    case Failure::kUpdateFailed: return "update_failed";
    case Failure::kDeleteFailed: return "delete_failed";
    case Failure::kQuotaExceeded: return "quota_exceeded";
    case Failure::kAccessDenied: return "access_denied";
    case Failure::kInvalidRequest: return "invalid_request";
  }
  return "unknown";
}

}  // namespace byoc::cloud
