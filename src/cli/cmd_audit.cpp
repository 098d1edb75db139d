// `lightvault audit export [--output FILE]`: the caller's visible audit trail as JSON Lines
// (all of it for the administrator, its organizations' entries for an organization admin).
// `lightvault audit verify --data DIR [--file EXPORT.jsonl] [--catalog URL]`: checks the live
// chain in the data folder's catalog, or an export, offline with DIR/keys/audit.key, each
// against its signed head (the catalog's head record, the export's last line); lists every
// problem, one line each, and exits 1 when the chain does not verify.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/audit/catalog_audit.h"
#include "lightvault/hub/client/hub_client.h"

namespace lv::cli {
namespace {

struct AuditArgs {
  std::string url, token, output, data = "lightvault-data", file, catalog;
  bool partial = false;
  int mode = 0;  // 1 export, 2 verify
};

int report(const hub::VerifyReport& r, const std::string& what) {
  if (r.ok) {
    std::printf("OK: %s: %lld entries verified (seq %lld..%lld), head %s\n", what.c_str(), static_cast<long long>(r.entries),
                static_cast<long long>(r.first_seq), static_cast<long long>(r.last_seq), r.head_mac.c_str());
    return 0;
  }
  std::fflush(stdout);
  for (const auto& i : r.issues) {
    std::fprintf(stderr, "%s: entry %lld (line %lld): %s: %s\n", what.c_str(), static_cast<long long>(i.seq),
                 static_cast<long long>(i.line), hub::audit_problem_name(i.problem), i.message.c_str());
  }
  if (r.more_issues > 0) std::fprintf(stderr, "%s: %lld more problems\n", what.c_str(), static_cast<long long>(r.more_issues));
  const long long problems = static_cast<long long>(r.issues.size()) + r.more_issues;
  std::fprintf(stderr, "error: %s: audit chain broken at entry %lld (line %lld): %s: %s%s\n", what.c_str(),
               static_cast<long long>(r.bad_seq), static_cast<long long>(r.bad_line), hub::audit_problem_name(r.problem),
               r.message.c_str(), problems > 1 ? (" (and " + std::to_string(problems - 1) + " more problems above)").c_str() : "");
  return 1;
}

CommandRegistrar audit_cmd("audit", "Export or verify the hub's tamper-evident audit trail", [](CLI::App& sub) {
  auto a = std::make_shared<AuditArgs>();
  sub.require_subcommand(1);
  auto* exp = sub.add_subcommand("export", "Write the visible audit trail as JSON Lines (from the server)");
  exp->add_option("-o,--output", a->output, "File (default: stdout)");
  exp->add_option("--url", a->url, "Hub URL (default: $LIGHTVAULT_URL)");
  exp->add_option("--token", a->token, "Token (default: $LIGHTVAULT_TOKEN)");
  exp->callback([a] { a->mode = 1; });
  auto* ver = sub.add_subcommand("verify", "Verify the live chain or an export offline with the data folder's audit key");
  ver->add_option("--data", a->data, "Data folder")->capture_default_str();
  ver->add_option("--file", a->file, "An export (JSON Lines) to verify instead of the live chain");
  ver->add_option("--catalog", a->catalog, "Catalog URL when it is PostgreSQL");
  ver->add_flag("--partial", a->partial, "The export is filtered (an organization's entries): allow gaps");
  ver->callback([a] { a->mode = 2; });

  return [a]() -> int {
    if (a->mode == 1) {
      auto client = hub::HubClient::connect(a->url, a->token);
      if (!client.ok()) return fail(client.error());
      // Streamed; a file is written as FILE.part and renamed once the whole trail arrived.
      const std::string part = a->output.empty() ? "" : a->output + ".part";
      std::FILE* out = part.empty() ? stdout : std::fopen(part.c_str(), "wb");
      if (!out) return fail(make_error(part, "cannot create"));
      Status st = (*client)->get_streamed("/api/lv/audit/export", [&](const char* data, size_t n) {
        return std::fwrite(data, 1, n, out) == n;
      });
      bool written = std::fflush(out) == 0 && !std::ferror(out);
      if (!part.empty()) written = std::fclose(out) == 0 && written;
      if (!written) st = make_error(part.empty() ? "stdout" : part, "cannot write (disk full?)");
      if (st.ok() && !part.empty() && std::rename(part.c_str(), a->output.c_str()) != 0) {
        st = make_error(a->output, "cannot rename " + part + " into place");
      }
      if (!st.ok()) {
        if (!part.empty()) std::remove(part.c_str());
        return fail(st.error());
      }
      if (!part.empty()) std::fprintf(stderr, "wrote %s\n", a->output.c_str());
      return 0;
    }
    auto key = hub::load_audit_key(a->data, false);
    if (!key.ok()) return fail(key.error());
    hub::VerifyOptions vopt;
    if (!a->file.empty()) {
      vopt.require_signed_head = true;  // an export cut short must not pass
      if (a->partial) vopt.require_complete = false;
      auto r = hub::verify_audit_export_file(*key, a->file, vopt);
      if (!r.ok()) return fail(r.error());
      return report(*r, a->file);
    }
    auto catalog = hub::Catalog::open(a->data, a->catalog);
    if (!catalog.ok()) return fail(catalog.error());
    auto store = std::make_shared<hub::CatalogAuditStore>(**catalog);
    hub::AuditLog log(*key, store);
    auto r = log.verify(vopt);
    if (!r.ok()) return fail(r.error());
    return report(*r, (*catalog)->describe());
  };
});

}  // namespace
}  // namespace lv::cli
