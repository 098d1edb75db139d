#pragma once
// What a use case of the hub's service layer answers when it does not succeed: a code that
// each adapter maps to its own vocabulary (an HTTP status and JSON, a page, a CLI exit code)
// and a message for people. No adapter reads the message to decide anything.
#include <string>
#include <string_view>

#include "lightvault/util/status.h"

namespace lv::hub {

enum class ErrorCode {
  kUnauthenticated,  // no principal, and the use case needs one
  kNotFound,         // no such thing, or nothing the principal may see (the two look alike)
  kDenied,           // the principal may see it but not do this
  kInvalid,          // the request itself is wrong (a bad name, role, path, ...)
  kConflict,         // the state moved: the name is taken, the branch moved
  kTooLarge,         // the request is over a limit
  kUnsatisfiable,    // a byte range past the end of the file
  kInternal,         // the catalog, blob store or audit chain failed
};

std::string_view to_string(ErrorCode code);

// The status number that audit entries of refusals have always carried in details.status. The
// trail is a stored format that exports and compliance reports read, so the numbering stays
// that of the HTTP API, whichever adapter refused.
int audit_status(ErrorCode code);

struct ServiceError {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // A stable name for clients that branch on it (Hugging Face's X-Error-Code: RepoNotFound,
  // RevisionNotFound, EntryNotFound, Forbidden, Unauthorized); "" when there is none.
  std::string reason = {};
};

// Either a T or a ServiceError: lv::Result whose error carries a code.
template <class T>
using Outcome = Expected<T, ServiceError>;

// For use cases that return nothing but success.
struct Done {};

}  // namespace lv::hub
