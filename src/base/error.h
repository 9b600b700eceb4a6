// Error: the one exception type byoc code throws for anything a caller or user
// should see. It carries a machine-readable code, a human message and, for bad
// input, the JSON field at fault — exactly what the API renders as
// {"error":{"code","message","field"}} and the CLI prints as one line.
//
// Kinds are a closed set; each maps to one HTTP status. Use the named
// constructors rather than building kinds by hand.
#pragma once

#include <stdexcept>
#include <string>

namespace byoc {

enum class ErrorKind {
  kBadRequest,        // 400: malformed request (bad JSON, wrong type)
  kUnauthenticated,   // 401
  kForbidden,         // 403
  kNotFound,          // 404
  kMethodNotAllowed,  // 405
  kConflict,          // 409
  kGone,              // 410: it existed and is over for good
  kTooLarge,          // 413
  kUnsupportedMedia,  // 415
  kInvalid,           // 422: well-formed but semantically invalid
  kUnavailable,       // 503: retry later
  kInternal,          // 500
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string code, const std::string& message, std::string field = "")
      : std::runtime_error(message), kind_(kind), code_(std::move(code)), field_(std::move(field)) {}

  static Error BadRequest(std::string code, const std::string& message, std::string field = "") {
    return Error(ErrorKind::kBadRequest, std::move(code), message, std::move(field));
  }
  static Error Invalid(std::string code, const std::string& message, std::string field = "") {
    return Error(ErrorKind::kInvalid, std::move(code), message, std::move(field));
  }
  static Error NotFound(const std::string& message, std::string field = "") {
    return Error(ErrorKind::kNotFound, "not_found", message, std::move(field));
  }
  static Error Conflict(std::string code, const std::string& message, std::string field = "") {
    return Error(ErrorKind::kConflict, std::move(code), message, std::move(field));
  }
  static Error Gone(std::string code, const std::string& message) {
    return Error(ErrorKind::kGone, std::move(code), message);
  }
  static Error Unauthenticated(const std::string& message) {
    return Error(ErrorKind::kUnauthenticated, "unauthenticated", message);
  }
  static Error Forbidden(const std::string& message) {
    return Error(ErrorKind::kForbidden, "forbidden", message);
  }
  static Error Unavailable(const std::string& message) {
    return Error(ErrorKind::kUnavailable, "unavailable", message);
  }
  static Error Internal(const std::string& message) {
    return Error(ErrorKind::kInternal, "internal", message);
  }

  ErrorKind kind() const { return kind_; }
  const std::string& code() const { return code_; }
  const std::string& field() const { return field_; }
  int http_status() const;

 private:
  ErrorKind kind_;
  std::string code_;
  std::string field_;
};

inline int Error::http_status() const {
  switch (kind_) {
    case ErrorKind::kBadRequest: return 400;
    case ErrorKind::kUnauthenticated: return 401;
    case ErrorKind::kForbidden: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kMethodNotAllowed: return 405;
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kGone: return 410;
    case ErrorKind::kTooLarge: return 413;
    case ErrorKind::kUnsupportedMedia: return 415;
    case ErrorKind::kInvalid: return 422;
    case ErrorKind::kUnavailable: return 503;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

}  // namespace byoc
