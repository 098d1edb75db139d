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

}  // namespace lv::hub
