// The hub's compliance routes: the per-model compliance report (JSON or a printable HTML
// document) and organizations' policies. Each reads its request, calls one use case of the
// service layer and writes its answer.
#include "lightvault/hub/http/http_server_impl.h"
#include "lightvault/hub/web/compliance_html.h"

namespace lv::hub {

namespace {

// The HTML report is a document with its own style sheet and nothing else: no script, no
// frames, nothing fetched.
constexpr const char* kReportDocumentCsp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

json policy_json(const std::string& org, const OrgPolicy& p) {
  return json{{"org", org}, {"require_card_complete", p.require_card_complete}};
}

}  // namespace

void HubServer::Impl::compliance_routes() {
  http.Get(R"(/api/lv/models/([^/]+)/([^/]+)/compliance)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string resource = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
    if (format != "json" && format != "html") {
      return deny(ctx, {ErrorCode::kInvalid, "format must be json or html"}, "compliance.report", resource);
    }
    std::string revision = req.has_param("revision") ? req.get_param_value("revision") : "main";
    auto report = service->compliance_report(ctx.caller(), req.matches[1], req.matches[2], revision);
    if (!report.ok()) return send_failure(res, report.error());
    if (format == "json") return send_json(res, 200, *report);
    res.status = 200;
    res.set_header("Content-Security-Policy", kReportDocumentCsp);
    res.set_content(web::compliance_document(*report), "text/html; charset=utf-8");
  });

  const std::string policy_re = R"(/api/lv/orgs/([^/]+)/policy)";
  http.Get(policy_re, [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto policy = service->org_policy(ctx.caller(), req.matches[1]);
    if (!policy.ok()) return send_failure(res, policy.error());
    send_json(res, 200, policy_json(req.matches[1], *policy));
  });

  http.Put(policy_re, [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string org = req.matches[1];
    if (!ctx.who.authenticated()) return send_failure(res, service->set_org_policy(ctx.caller(), org, {}).error());
    auto body = parse_body(ctx, "org.policy");
    if (!body) return;
    // Unset fields keep their value: read the policy first (its refusals are the service's).
    auto current = service->org_policy(ctx.caller(), org);
    if (!current.ok()) return send_failure(res, current.error());
    OrgPolicy policy = *current;
    policy.require_card_complete = field(*body, "require_card_complete", policy.require_card_complete);
    auto set = service->set_org_policy(ctx.caller(), org, policy);
    if (!set.ok()) return send_failure(res, set.error());
    send_json(res, 200, policy_json(org, *set));
  });
}

}  // namespace lv::hub
