#pragma once
// Who asks the service layer for something, as an adapter established it: the user and token
// behind a checked bearer token or session (or nobody), plus where the request came from, which
// goes into every audit entry the use case writes. The service trusts the adapter to have
// checked the token; it decides everything else.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/access/permissions.h"

namespace lv::hub {

struct Principal {
  std::optional<User> user;
  std::optional<Token> token;
  unsigned scopes = 0;
  bool authenticated() const { return user.has_value(); }
  std::string name() const { return user ? user->name : ""; }
  // A site administrator acting through an admin-scoped token.
  bool site_admin() const { return user && user->site_admin && (scopes & kScopeAdmin); }
};

struct Caller {
  Principal who;
  std::string client;      // "ip:port", or "local" for the command line
  std::string request_id;  // ties the audit entries of one request together
};

// The principal of an administrator acting on the data folder directly (no server, no token):
// all scopes, no token id in its audit entries.
Caller local_caller(const User& admin, const std::string& request_id);

// The audit entry of something `caller` did: who, with which token, from where, on what.
AuditEntry audit_entry(const Caller& caller, const std::string& action, const std::string& resource,
                       const char* outcome, nlohmann::json details, const std::string& org);

}  // namespace lv::hub
