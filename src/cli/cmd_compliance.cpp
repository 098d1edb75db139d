// `lightvault compliance report OWNER/NAME [-o FILE] [--format json|html|pdf] [--revision REV]`:
// the model's compliance report as the hub computes it now (GET /api/lv/models/{repo}/compliance),
// with the usual LIGHTVAULT_URL / LIGHTVAULT_TOKEN. JSON and HTML come from the hub as they
// are; a PDF is printed from the HTML with Debian's chromium (html_to_pdf.h). Without -o, JSON
// and HTML go to stdout; a PDF needs -o.
#include <cstdio>
#include <fstream>

#include "cli/hub_args.h"
#include "lightvault/hub/client/html_to_pdf.h"

namespace lv::cli {
namespace {

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error(path, "cannot write");
  return Status::Ok();
}

CommandRegistrar compliance_cmd("compliance", "Compliance reports of models in a hub (LIGHTVAULT_URL, LIGHTVAULT_TOKEN)", [](CLI::App& sub) {
  struct Args {
    std::string repo, out, format = "json", revision = "main";
    HubArgs hub;
  };
  auto a = std::make_shared<Args>();
  sub.require_subcommand(1);
  auto* report = sub.add_subcommand("report", "A model's compliance report: identity, training data, evaluation, labeling, access, audit, complaints");
  report->add_option("repo", a->repo, "Repository OWNER/NAME")->required();
  report->add_option("-o,--output", a->out, "Write the report to this file (default: stdout; required for pdf)");
  report->add_option("--format", a->format, "json, html or pdf")->check(CLI::IsMember({"json", "html", "pdf"}))->capture_default_str();
  report->add_option("--revision", a->revision, "Branch, tag or commit")->capture_default_str();
  a->hub.add_to(*report);
  return [a]() -> int {
    if (a->format == "pdf" && a->out.empty()) return fail(make_error("compliance report", "--format pdf needs -o FILE.pdf"));
    if (a->repo.find('/') == std::string::npos) return fail(make_error(a->repo, "repository must be OWNER/NAME"));
    auto client = a->hub.connect();
    if (!client.ok()) return fail(client.error());
    std::string path = "/api/lv/models/" + a->repo + "/compliance?format=" + (a->format == "json" ? "json" : "html") +
                       "&revision=" + a->revision;
    std::string body;
    Status got = (*client)->get_streamed(path, [&](const char* data, size_t n) {
      body.append(data, n);
      return true;
    });
    if (!got.ok()) return fail(got.error());
    if (a->format == "json") {
      auto parsed = nlohmann::json::parse(body, nullptr, false);
      if (parsed.is_discarded()) return fail(make_error("GET " + path, "the hub's answer is not JSON"));
      body = parsed.dump(2) + "\n";
    }
    if (a->format == "pdf") {
      Status printed = hub::print_html_to_pdf(body, a->out);
      if (!printed.ok()) return fail(printed.error());
    } else if (a->out.empty()) {
      std::fwrite(body.data(), 1, body.size(), stdout);
      return 0;
    } else if (Status written = write_text(a->out, body); !written.ok()) {
      return fail(written.error());
    }
    std::fprintf(stderr, "%s: compliance report (%s) written to %s\n", a->repo.c_str(), a->format.c_str(), a->out.c_str());
    return 0;
  };
});

}  // namespace
}  // namespace lv::cli
