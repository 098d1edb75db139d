#include "lightvault/hub/service/service_error.h"

namespace lv::hub {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kDenied: return "denied";
    case ErrorCode::kInvalid: return "invalid";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kTooLarge: return "too_large";
    case ErrorCode::kUnsatisfiable: return "unsatisfiable";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

int audit_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kDenied: return 403;
    case ErrorCode::kInvalid: return 400;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kTooLarge: return 413;
    case ErrorCode::kUnsatisfiable: return 416;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

}  // namespace lv::hub
