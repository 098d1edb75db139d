// The hub's content routes: mark an image, detect marks in an image or a text, and an
// organization's text watermark key. Each reads its request (the body is the content; options
// are query parameters named like the CLI's flags), calls one use case of ContentService and
// writes its answer. The body limit (kMaxContentBody) is enforced before any of it is read
// (refuse_body).
#include <cctype>
#include <cstdlib>

#include "lightvault/hub/http/http_server_impl.h"
#include "lightvault/hub/service/content_service.h"

namespace lv::hub {

namespace {

// A flag given as a query parameter: present (?no-label, ?no-label=1, =true) unless its value
// says otherwise (=0, =false).
bool flag(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return false;
  const std::string v = req.get_param_value(name);
  return v != "0" && v != "false";
}

// A number given as a query parameter; false when present and not a number.
bool number(const httplib::Request& req, const char* name, double& out) {
  if (!req.has_param(name)) return true;
  const std::string v = req.get_param_value(name);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size()) return false;
  out = d;
  return true;
}

bool is_text(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type.rfind("text/plain", 0) == 0;
}

}  // namespace

bool is_content_route(const httplib::Request& req) {
  return req.method == "POST" && (req.path == "/api/lv/mark" || req.path == "/api/lv/detect");
}

void HubServer::Impl::content_routes() {
  http.Post("/api/lv/mark", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    ImageMarkRequest request;
    request.repo = req.get_param_value("repo");
    request.label = req.get_param_value("label");
    request.no_label = flag(req, "no-label");
    request.label_position = req.get_param_value("label-position");
    request.no_watermark = flag(req, "no-watermark");
    request.payload = req.get_param_value("payload");
    request.producer = req.get_param_value("producer");
    request.produce_id = req.get_param_value("produce-id");
    auto marked = content->mark_image(ctx.caller(), request, req.body);
    if (!marked.ok()) return send_failure(res, marked.error());
    res.status = 200;
    res.set_header("X-Lightvault-Payload", marked->payload);
    res.set_content(std::move(marked->bytes), marked->content_type);
  });

  http.Post("/api/lv/detect", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    DetectRequest request;
    request.repo = req.get_param_value("repo");
    request.text = is_text(req);
    const std::string resource = request.repo.empty() ? "content" : request.repo;
    if (request.text && ctx.who.authenticated() && !content->detects_text()) {
      const std::string why = "text watermark detection is not available: this hub was started without the engine's tokenizers";
      audit_event(ctx, "content.detect", resource, kAuditDenied, json{{"reason", why}, {"status", 501}});
      return send_error(res, 501, why, "NotImplemented");
    }
    double context = request.text_params.context;
    if (!number(req, "watermark-gamma", request.text_params.gamma) || !number(req, "watermark-context", context) ||
        !number(req, "z-threshold", request.z_threshold)) {
      return deny(ctx, {ErrorCode::kInvalid, "watermark-gamma, watermark-context and z-threshold must be numbers"},
                  "content.detect", resource);
    }
    if (!(context >= 0 && context <= 1000) || context != static_cast<int>(context)) {
      return deny(ctx, {ErrorCode::kInvalid, "watermark-context must be a whole number"}, "content.detect", resource);
    }
    request.text_params.context = static_cast<int>(context);
    auto found = content->detect(ctx.caller(), request, req.body);
    if (!found.ok()) return send_failure(res, found.error());
    res.status = 200;
    res.set_content(std::move(found->body), "application/json");
  });

  http.Get(R"(/api/lv/orgs/([^/]+)/watermark-key)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto key = content->text_watermark_key(ctx.caller(), req.matches[1]);
    if (!key.ok()) return send_failure(res, key.error());
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_content(*key, "text/plain");
  });

  http.Post(R"(/api/lv/orgs/([^/]+)/image-watermark-key)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto created = content->create_image_watermark_key(ctx.caller(), req.matches[1]);
    if (!created.ok()) return send_failure(res, created.error());
    send_json(res, 200, {{"org", req.matches[1].str()}, {"created", *created}});
  });
}

}  // namespace lv::hub
