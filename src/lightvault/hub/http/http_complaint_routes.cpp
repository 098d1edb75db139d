// The complaint routes (listed in http_server.h): each reads its request, calls one use case
// of the complaint service (service/complaint_service.h) and writes its answer. Filing is
// open to callers without a token, so it is limited per client address before its body is
// parsed, and its refusals are audited within the budget for unauthenticated callers.
#include "lightvault/hub/http/http_server_impl.h"

namespace lv::hub {

namespace {

json time_or_null(int64_t t) { return t == 0 ? json(nullptr) : json(utc_rfc3339(t, true)); }

// What the owners see.
json owner_view(const Complaint& c, int64_t now) {
  return json{{"id", c.id},
              {"repo", c.repo},
              {"status", std::string(to_string(c.status))},
              {"subject", c.subject},
              {"text", c.text},
              {"contact", c.contact},
              {"complainant", c.complainant},
              {"received", utc_rfc3339(c.received_at, true)},
              {"due", utc_rfc3339(c.due_at, true)},
              {"overdue", c.overdue(now)},
              {"acknowledged", time_or_null(c.acknowledged_at)},
              {"closed", time_or_null(c.closed_at)},
              {"resolution", c.resolution},
              {"resolver", c.resolver}};
}

// What the complainant sees with the secret: where their complaint stands and the answer.
json complainant_view(const Complaint& c, int64_t now) {
  return json{{"id", c.id},
              {"repo", c.repo},
              {"status", std::string(to_string(c.status))},
              {"subject", c.subject},
              {"received", utc_rfc3339(c.received_at, true)},
              {"due", utc_rfc3339(c.due_at, true)},
              {"overdue", c.overdue(now)},
              {"acknowledged", time_or_null(c.acknowledged_at)},
              {"closed", time_or_null(c.closed_at)},
              {"resolution", c.resolution}};
}

}  // namespace

void HubServer::Impl::complaint_routes() {
  // A string field of the body, "" when absent; a field of another type is refused (audited).
  auto text_field = [this](Ctx& ctx, const json& body, const char* key, const std::string& action,
                           std::string& out) -> bool {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return true;
    if (it->is_string()) {
      out = it->get<std::string>();
      return true;
    }
    deny(ctx, {ErrorCode::kInvalid, std::string("request body: field '") + key + "' must be a string"}, action, ctx.req.path);
    return false;
  };

  http.Post("/api/lv/complaints", [this, text_field](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    const std::string action = "complaint.receive";
    if (int64_t wait = complaint_limiter->admit(req.remote_addr, now_unix()); wait > 0) {
      res.set_header("Retry-After", std::to_string(wait));
      return deny_budgeted(ctx, 429, action, req.path,
                           "too many complaints from this address; try again in " + std::to_string(wait) + " s",
                           "TooManyRequests");
    }
    auto body = parse_body(ctx, action);
    if (!body) return;
    ComplaintRequest r;
    if (!text_field(ctx, *body, "repo", action, r.repo) || !text_field(ctx, *body, "subject", action, r.subject) ||
        !text_field(ctx, *body, "text", action, r.text) || !text_field(ctx, *body, "contact", action, r.contact)) {
      return;
    }
    auto receipt = complaints->receive(ctx.caller(), r);
    if (!receipt.ok()) return send_failure(res, receipt.error());
    const Complaint& c = receipt->complaint;
    send_json(res, 201, {{"id", c.id},
                         {"status", std::string(to_string(c.status))},
                         {"repo", c.repo},
                         {"received", utc_rfc3339(c.received_at, true)},
                         {"due", utc_rfc3339(c.due_at, true)},
                         {"secret", receipt->secret}});
  });

  http.Get(R"(/api/lv/complaints/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string id = req.matches[1];
    std::string secret = req.has_header("X-Complaint-Secret") ? req.get_header_value("X-Complaint-Secret")
                                                               : req.get_param_value("secret");
    auto c = complaints->status_for_complainant(id, secret);
    if (!c.ok()) {
      if (c.error().code != ErrorCode::kNotFound) return send_failure(res, c.error());
      return deny_budgeted(ctx, 404, "complaint.status", "complaints/" + id, c.error().message, "ComplaintNotFound");
    }
    send_json(res, 200, complainant_view(*c, now_unix()));
  });

  http.Get("/api/lv/complaints", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    ComplaintQuery q;
    q.repo = req.get_param_value("repo");
    q.status = req.get_param_value("status");
    std::string overdue = req.get_param_value("overdue");
    q.overdue_only = overdue == "true" || overdue == "1";
    auto list = complaints->list(ctx.caller(), q);
    if (!list.ok()) return send_failure(res, list.error());
    const int64_t now = now_unix();
    json out = json::array();
    for (auto& c : *list) out.push_back(owner_view(c, now));
    send_json(res, 200, out);
  });

  http.Post(R"(/api/lv/complaints/([^/]+))", [this, text_field](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string id = req.matches[1];
    if (!ctx.who.authenticated()) return send_failure(res, complaints->decide(ctx.caller(), id, {}).error());
    auto body = parse_body(ctx, "complaint.update");
    if (!body) return;
    ComplaintDecision d;
    if (!text_field(ctx, *body, "status", "complaint.update", d.status) ||
        !text_field(ctx, *body, "resolution", "complaint.update", d.resolution)) {
      return;
    }
    auto c = complaints->decide(ctx.caller(), id, d);
    if (!c.ok()) return send_failure(res, c.error());
    send_json(res, 200, owner_view(*c, now_unix()));
  });

  http.Put(R"(/api/lv/models/([^/]+)/([^/]+)/complaints/channel)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string owner = req.matches[1], name = req.matches[2];
    if (!ctx.who.authenticated()) return send_failure(res, complaints->set_public_channel(ctx.caller(), owner, name, false).error());
    auto body = parse_body(ctx, "complaint.channel");
    if (!body) return;
    auto open = body->find("public");
    if (open == body->end() || !open->is_boolean()) {
      return deny(ctx, {ErrorCode::kInvalid, "request body: field 'public' must be true or false"}, "complaint.channel",
                  owner + "/" + name);
    }
    auto set = complaints->set_public_channel(ctx.caller(), owner, name, open->get<bool>());
    if (!set.ok()) return send_failure(res, set.error());
    send_json(res, 200, {{"repo", owner + "/" + name}, {"public", *set}});
  });

  http.Put(R"(/api/lv/orgs/([^/]+)/complaints/webhook)", [this, text_field](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string org = req.matches[1];
    if (!ctx.who.authenticated()) return send_failure(res, complaints->set_org_webhook(ctx.caller(), org, "").error());
    auto body = parse_body(ctx, "complaint.webhook");
    if (!body) return;
    std::string url;
    if (!text_field(ctx, *body, "url", "complaint.webhook", url)) return;
    auto set = complaints->set_org_webhook(ctx.caller(), org, url);
    if (!set.ok()) return send_failure(res, set.error());
    send_json(res, 200, {{"org", org}, {"webhook", !url.empty()}});
  });
}

}  // namespace lv::hub
