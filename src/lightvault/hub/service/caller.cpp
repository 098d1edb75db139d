#include "lightvault/hub/service/caller.h"

namespace lv::hub {

Caller local_caller(const User& admin, const std::string& request_id) {
  Caller c;
  c.who.user = admin;
  c.who.scopes = kScopeRead | kScopeWrite | kScopeAdmin;
  c.client = "local";
  c.request_id = request_id;
  return c;
}

AuditEntry audit_entry(const Caller& caller, const std::string& action, const std::string& resource,
                       const char* outcome, nlohmann::json details, const std::string& org) {
  AuditEntry e;
  e.actor = caller.who.name();
  e.token_id = caller.who.token ? caller.who.token->id : "";
  e.action = action;
  e.resource = resource;
  e.outcome = outcome;
  e.client = caller.client;
  e.request_id = caller.request_id;
  e.org = org;
  e.details = std::move(details);
  return e;
}

}  // namespace lv::hub
