// The HTML of the web interface's pages (see pages.h).
#include "lightvault/hub/web/pages.h"

#include <algorithm>
#include <map>
#include <set>

#include "lightvault/hub/service/card_check.h"
#include "lightvault/hub/service/model_card.h"
#include "lightvault/hub/web/compliance_html.h"
#include "lightvault/hub/web/html.h"
#include "lightvault/hub/web/markdown.h"

namespace lv::hub::web {

using json = nlohmann::json;

namespace {

std::string repo_url(const Repo& r) { return "/" + url_path(r.owner) + "/" + url_path(r.name); }

std::string csrf_field(const Frame& f) { return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(f.csrf) + "\">"; }

std::string badge(const std::string& text, const std::string& kind) {
  return "<span class=\"badge badge-" + kind + "\">" + esc(text) + "</span>";
}

std::string visibility_badge(Visibility v) {
  return v == Visibility::kPrivate ? badge("private", "private") : badge("internal", "internal");
}

// "HEAD -> main" style label of a revision for headings.
std::string short_id(const std::string& id) { return id.substr(0, 10); }

bool is_report(const std::string& path) {
  const std::string suffix = ".report.html";
  return path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The header of every repository page: name, visibility, tabs.
std::string repo_header(const Repo& repo, RepoRole role, const std::string& rev, const std::string& active) {
  std::string base = repo_url(repo);
  std::string r = url_path(rev);
  std::string o = "<div class=\"repo-head\"><h1><a href=\"" + base + "\"><span class=\"owner\">" + esc(repo.owner) +
                  "</span><span class=\"slash\">/</span><span class=\"name\">" + esc(repo.name) + "</span></a></h1>" +
                  visibility_badge(repo.visibility) + "</div>";
  struct Tab {
    std::string key, label, href;
  };
  std::vector<Tab> tabs = {{"card", "Model card", base + (rev == "main" ? "" : "?rev=" + url_query(rev))},
                           {"files", "Files", base + "/tree/" + r},
                           {"commits", "History", base + "/commits/" + r},
                           {"compliance", "Compliance", base + "/compliance" + (rev == "main" ? "" : "?rev=" + url_query(rev))}};
  if (role >= RepoRole::kAdmin) tabs.push_back({"complaints", "Complaints", base + "/complaints"});
  if (role >= RepoRole::kAdmin) tabs.push_back({"settings", "Settings", base + "/settings"});
  o += "<nav class=\"tabs\" aria-label=\"Repository\">";
  for (auto& t : tabs) {
    o += "<a href=\"" + t.href + "\"" + (t.key == active ? " aria-current=\"page\"" : "") + ">" + esc(t.label) + "</a>";
  }
  return o + "</nav>";
}

// A front-matter value as text: lists joined, mappings as "key: value" lines.
std::string card_value(const json& v) {
  if (v.is_string()) return esc(v.get<std::string>());
  if (v.is_array()) {
    std::string o = "<ul class=\"plain\">";
    for (auto& x : v) o += "<li>" + card_value(x) + "</li>";
    return o + "</ul>";
  }
  if (v.is_object()) {
    std::string o = "<dl class=\"nested\">";
    for (auto& [k, x] : v.items()) o += "<dt>" + esc(k) + "</dt><dd>" + card_value(x) + "</dd>";
    return o + "</dl>";
  }
  return esc(v.dump(-1, ' ', false, json::error_handler_t::replace));
}

// The card's training-data transparency items (card_check.h), each marked stated or missing,
// with the missing field paths under it.
std::string transparency_panel(const Repo& repo, const std::string& rev, const std::vector<std::string>& missing,
                               const std::string& card_error) {
  struct Item {
    const char* label;
    const char* path;  // the field, or the prefix of the fields it stands for
  };
  static const Item items[] = {{"License", "license"},
                               {"Datasets", "datasets"},
                               {"Intended use", "intended_use"},
                               {"Limitations", "limitations"},
                               {"Training-data sources", "training_data.sources"},
                               {"Cleaning methods", "training_data.cleaning_methods"},
                               {"Personal data", "training_data.personal_data"},
                               {"Copyright opt-outs", "training_data.copyright_opt_outs_respected"}};
  size_t stated = 0;
  std::string list;
  for (auto& item : items) {
    std::vector<std::string> lacking;
    const std::string prefix = item.path;
    for (auto& m : missing) {
      if (m == prefix || m.rfind(prefix + ".", 0) == 0 || m.rfind(prefix + "[", 0) == 0) lacking.push_back(m);
    }
    if (lacking.empty()) ++stated;
    list += "<li class=\"" + std::string(lacking.empty() ? "stated" : "lacking") + "\">" +
            badge(lacking.empty() ? "stated" : "missing", lacking.empty() ? "ok" : "warn") + " " + esc(item.label);
    if (!lacking.empty()) {  // the field paths to add to the front matter
      list += "<ul class=\"plain lacking-fields\">";
      for (auto& m : lacking) list += "<li><code>" + esc(m) + "</code></li>";
      list += "</ul>";
    }
    list += "</li>";
  }
  std::string o = "<section class=\"panel transparency\" aria-labelledby=\"transparency-h\"><h2 id=\"transparency-h\">Training-data transparency</h2>";
  if (!card_error.empty()) o += "<p class=\"warn\">The card's front matter could not be read.</p>";
  o += "<p class=\"muted\">" + std::to_string(stated) + " of " + std::to_string(std::size(items)) + " stated in the model card.</p>";
  o += "<ul class=\"plain checklist\">" + list + "</ul>";
  o += "<p><a href=\"" + repo_url(repo) + "/compliance" + (rev == "main" ? "" : "?rev=" + url_query(rev)) +
       "\">Compliance report</a></p></section>";
  return o;
}

std::string files_table(const Repo& repo, const std::string& rev, const std::vector<FileEntry>& files, bool with_sha) {
  std::string o = "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Files\"><table class=\"files\"><thead><tr><th scope=\"col\">File</th>"
                  "<th scope=\"col\" class=\"num\">Size</th>";
  if (with_sha) o += "<th scope=\"col\" class=\"sha-col\">SHA-256</th>";
  o += "</tr></thead><tbody>";
  for (auto& f : files) {
    o += "<tr><td class=\"path\"><a href=\"" + repo_url(repo) + "/blob/" + url_path(rev) + "/" + url_path(f.path) + "\">" +
         esc(f.path) + "</a></td><td class=\"num\">" + human_size(f.size) + "</td>";
    if (with_sha) o += "<td class=\"sha-col\"><code class=\"sha\">" + esc(f.sha256) + "</code></td>";
    o += "</tr>";
  }
  return o + "</tbody></table></div>";
}

std::string commit_line(const Repo& repo, const Commit& c) {
  return "<div class=\"commit-line\"><a class=\"mono\" href=\"" + repo_url(repo) + "/tree/" + esc(c.id) + "\">" +
         short_id(c.id) + "</a> <span class=\"msg\">" + esc(c.message.empty() ? "(no message)" : c.message) +
         "</span> <span class=\"meta\">" + esc(c.author) + " · <time>" + human_time(c.created_at) + "</time></span></div>";
}

std::string option(const std::string& value, const std::string& label, bool selected) {
  return "<option value=\"" + esc(value) + "\"" + (selected ? " selected" : "") + ">" + esc(label) + "</option>";
}

}  // namespace

std::string page(const Frame& f, const std::string& content) {
  std::string o =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"referrer\" content=\"same-origin\"><title>" +
      esc(f.title) + " · lightvault</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head><body>"
      "<a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"top\"><div class=\"wrap top-row\">"
      "<a class=\"brand\" href=\"/\"><span class=\"logo\" aria-hidden=\"true\"></span>lightvault</a>"
      "<form class=\"search\" action=\"/\" method=\"get\" role=\"search\"><label class=\"sr\" for=\"q\">Search models</label>"
      "<input id=\"q\" name=\"q\" type=\"search\" placeholder=\"Search models\" value=\"" +
      esc(f.query) + "\"></form><nav class=\"account\" aria-label=\"Account\">";
  if (f.user.empty()) {
    o += "<a class=\"button\" href=\"/login\">Sign in</a>";
  } else {
    if (f.audit_link) o += "<a href=\"/audit\">Audit</a>";
    for (auto& org : f.orgs) o += "<a href=\"/orgs/" + url_path(org) + "\">" + esc(org) + "</a>";
    o += "<a href=\"/settings/tokens\">Tokens</a><span class=\"who\">" + esc(f.user) + "</span>" +
         "<form action=\"/logout\" method=\"post\">" + csrf_field(f) + "<button class=\"link\" type=\"submit\">Sign out</button></form>";
  }
  o += "</nav></div></header><main id=\"main\" class=\"wrap\">";
  if (!f.notice.empty()) o += "<p class=\"notice\" role=\"status\">" + esc(f.notice) + "</p>";
  if (!f.error.empty()) o += "<p class=\"error\" role=\"alert\">" + esc(f.error) + "</p>";
  return o + content + "</main><footer class=\"wrap foot\">lightvault model hub</footer></body></html>\n";
}

std::string error_page(const Frame& f, int status, const std::string& message) {
  std::string hint = status == 404 && f.user.empty() ? "<p>If this is a private model, <a href=\"/login\">sign in</a> first.</p>" : "";
  return page(f, "<section class=\"empty\"><h1>" + std::to_string(status) + "</h1><p>" + esc(message) + "</p>" + hint +
                     "<p><a href=\"/\">Back to models</a></p></section>");
}

std::string login_page(const Frame& f, const std::string& login_csrf, const std::string& next) {
  return page(f, "<section class=\"card narrow\"><h1>Sign in</h1>"
                 "<p class=\"muted\">Paste a hub token. An administrator can create one with "
                 "<code>lightvault token create</code>, or you can make one under Tokens once signed in.</p>"
                 "<form action=\"/login\" method=\"post\" class=\"stack\"><input type=\"hidden\" name=\"csrf\" value=\"" +
                     esc(login_csrf) + "\"><input type=\"hidden\" name=\"next\" value=\"" + esc(next) +
                     "\"><label for=\"token\">Token</label><input id=\"token\" name=\"token\" type=\"password\" "
                     "autocomplete=\"current-password\" required autofocus spellcheck=\"false\">"
                     "<button type=\"submit\">Sign in</button></form></section>");
}

std::string logout_page(const Frame& f) {
  if (f.user.empty()) return page(f, "<section class=\"card narrow\"><h1>Signed out</h1><p><a href=\"/\">Models</a></p></section>");
  return page(f, "<section class=\"card narrow\"><h1>Sign out</h1><p>Signed in as <strong>" + esc(f.user) +
                     "</strong>.</p><form action=\"/logout\" method=\"post\">" + csrf_field(f) +
                     "<button type=\"submit\">Sign out</button></form></section>");
}

std::string home_page(const Frame& f, const std::vector<Repo>& repos) {
  std::string o = "<div class=\"page-head\"><h1>Models</h1><p class=\"muted\">";
  o += f.query.empty() ? std::to_string(repos.size()) + (repos.size() == 1 ? " model" : " models") + " you can see"
                       : std::to_string(repos.size()) + " matching “" + esc(f.query) + "”";
  o += "</p></div>";
  if (repos.empty()) {
    o += "<section class=\"empty\"><p>";
    o += f.user.empty() ? "No models are visible without signing in. <a href=\"/login\">Sign in</a> to see yours."
                        : f.query.empty() ? "No models yet. Create one with <code>lightvault push</code> or the API."
                                          : "No model matches that search.";
    return page(f, o + "</p></section>");
  }
  o += "<ul class=\"models\">";
  for (auto& r : repos) {
    o += "<li><a href=\"" + repo_url(r) + "\"><span class=\"owner\">" + esc(r.owner) + "/</span><span class=\"name\">" +
         esc(r.name) + "</span></a> " + visibility_badge(r.visibility) + "<span class=\"meta\">created " +
         human_time(r.created_at) + "</span></li>";
  }
  return page(f, o + "</ul>");
}

std::string repo_page(const Frame& f, const RepoView& v, const std::string& rev) {
  std::string o = repo_header(v.repo, v.role, rev, "card");
  if (!v.commit) {
    return page(f, o + "<section class=\"empty\"><p>This repository is empty: nothing has been committed yet.</p></section>");
  }
  const Commit& c = *v.commit;
  json meta = json::object();
  std::string body_html, card_error;
  if (v.readme) {
    auto card = parse_model_card(*v.readme);
    if (card.ok()) {
      meta = card->metadata;
      body_html = render_markdown(card->body);
    } else {
      card_error = card.error().message;
      body_html = render_markdown(*v.readme);
    }
  }
  o += "<div class=\"repo-grid\"><article class=\"card-body\">";
  if (!v.readme) {
    o += "<p class=\"muted\">No model card. Add a <code>README.md</code> with YAML front matter (license, datasets, "
         "training data) to describe this model.</p>";
  } else {
    if (!card_error.empty()) o += "<p class=\"error\">Front matter not read: " + esc(card_error) + "</p>";
    o += "<div class=\"markdown\">" + body_html + "</div>";
  }
  o += "</article><aside class=\"side\">";
  o += "<section class=\"panel\"><h2>Latest commit</h2>" + commit_line(v.repo, c) + "</section>";
  if (!meta.empty()) {
    o += "<section class=\"panel\"><h2>Model card metadata</h2><dl class=\"meta-list\">";
    for (auto& [k, x] : meta.items()) o += "<dt>" + esc(k) + "</dt><dd>" + card_value(x) + "</dd>";
    o += "</dl></section>";
  }
  o += transparency_panel(v.repo, rev, card_error.empty() ? missing_card_fields(meta) : missing_card_fields(json::object()),
                          card_error);
  uint64_t total = 0;
  for (auto& file : c.files) total += file.size;
  o += "<section class=\"panel\"><h2>Files</h2><p>" + std::to_string(c.files.size()) + " files · " + human_size(total) +
       "</p><p><a href=\"" + repo_url(v.repo) + "/tree/" + url_path(rev) + "\">Browse files</a></p></section>";
  if (v.refs.size() > 1) {
    o += "<section class=\"panel\"><h2>Branches and tags</h2><ul class=\"plain\">";
    for (auto& r : v.refs) {
      o += "<li>" + badge(r.kind, "ref") + " <a href=\"" + repo_url(v.repo) + "?rev=" + url_query(r.name) + "\">" + esc(r.name) + "</a></li>";
    }
    o += "</ul></section>";
  }
  o += "</aside></div>";
  for (auto& file : c.files) {
    if (!is_report(file.path)) continue;
    o += "<section class=\"report\"><h2>Compression report <span class=\"muted\">" + esc(file.path) + "</span></h2>"
         "<iframe sandbox title=\"Compression report " + esc(file.path) + "\" src=\"" + repo_url(v.repo) + "/report/" +
         esc(c.id) + "/" + url_path(file.path) + "\"></iframe></section>";
  }
  o += "<section><h2>Files</h2>" + files_table(v.repo, c.id, c.files, true) + "</section>";
  return page(f, o);
}

std::string compliance_page(const Frame& f, const ComplianceView& v, const std::string& rev) {
  return page(f, "<link rel=\"stylesheet\" href=\"" + std::string(kComplianceCssPath) + "\">" +
                     repo_header(v.repo, v.role, rev, "compliance") + "<p class=\"muted noprint\">Computed now from the catalog, the "
                     "revision's files and the audit trail. Print this page, or save it with <code>lightvault compliance report " +
                     esc(v.repo.full_name()) + " --format pdf</code>.</p>" + compliance_sections(v.report));
}

std::string tree_page(const Frame& f, const RepoView& v, const std::string& rev, const std::string& dir) {
  std::string o = repo_header(v.repo, v.role, rev, "files");
  if (!v.commit) return page(f, o + "<section class=\"empty\"><p>This repository is empty.</p></section>");
  std::string prefix = dir.empty() ? "" : dir + "/";
  std::string base = repo_url(v.repo) + "/tree/" + url_path(rev);
  // Breadcrumbs: rev / a / b
  o += "<nav class=\"crumbs\" aria-label=\"Path\"><a href=\"" + base + "\">" + esc(rev) + "</a>";
  std::string acc;
  for (size_t start = 0; !dir.empty() && start <= dir.size();) {
    size_t end = dir.find('/', start);
    if (end == std::string::npos) end = dir.size();
    acc += (acc.empty() ? "" : "/") + dir.substr(start, end - start);
    o += "<span aria-hidden=\"true\">/</span><a href=\"" + base + "/" + url_path(acc) + "\">" + esc(dir.substr(start, end - start)) + "</a>";
    start = end + 1;
  }
  o += "</nav>";
  std::map<std::string, std::pair<size_t, uint64_t>> dirs;  // name -> files, bytes
  std::vector<FileEntry> files;
  for (auto& file : v.commit->files) {
    if (file.path.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = file.path.substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string::npos) {
      files.push_back(file);
    } else {
      auto& d = dirs[rest.substr(0, slash)];
      d.first++;
      d.second += file.size;
    }
  }
  if (dirs.empty() && files.empty()) {
    return page(f, o + "<section class=\"empty\"><p>No such folder at this revision.</p></section>");
  }
  o += "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Files\"><table class=\"files\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\" class=\"num\">Size</th>"
       "<th scope=\"col\" class=\"sha-col\">SHA-256</th></tr></thead><tbody>";
  for (auto& [name, d] : dirs) {
    o += "<tr><td class=\"path\"><a class=\"dir\" href=\"" + base + "/" + url_path(prefix + name) + "\">" + esc(name) +
         "/</a></td><td class=\"num\">" + human_size(d.second) + "</td><td class=\"sha-col muted\">" + std::to_string(d.first) +
         (d.first == 1 ? " file" : " files") + "</td></tr>";
  }
  for (auto& file : files) {
    o += "<tr><td class=\"path\"><a href=\"" + repo_url(v.repo) + "/blob/" + url_path(rev) + "/" + url_path(file.path) + "\">" +
         esc(file.path.substr(prefix.size())) + "</a></td><td class=\"num\">" + human_size(file.size) +
         "</td><td class=\"sha-col\"><code class=\"sha\">" + esc(file.sha256) + "</code></td></tr>";
  }
  return page(f, o + "</tbody></table></div>");
}

std::string blob_page(const Frame& f, const BlobView& v, const std::string& rev, RepoRole role) {
  std::string o = repo_header(v.repo, role, rev, "files");
  std::string download = repo_url(v.repo) + "/resolve/" + url_path(rev) + "/" + url_path(v.file.path);
  o += "<section class=\"blob-head\"><h2 class=\"path\">" + esc(v.file.path) + "</h2><dl class=\"facts\"><dt>Size</dt><dd>" +
       human_size(v.file.size) + " (" + std::to_string(v.file.size) + " bytes)</dd><dt>SHA-256</dt><dd><code class=\"sha\">" +
       esc(v.file.sha256) + "</code></dd><dt>Commit</dt><dd><a class=\"mono\" href=\"" + repo_url(v.repo) + "/tree/" +
       esc(v.commit.id) + "\">" + short_id(v.commit.id) + "</a></dd></dl><p><a class=\"button\" href=\"" + download +
       "\" download>Download</a></p></section>";
  if (!looks_like_text(v.head)) {
    o += "<section class=\"empty\"><p>Binary file: no preview. Download it, or fetch it with any Hugging Face client.</p></section>";
  } else if (v.file.path.size() > 3 && v.file.path.compare(v.file.path.size() - 3, 3, ".md") == 0 && !v.truncated) {
    auto card = parse_model_card(v.head);  // front matter shows as data on the model's page
    o += "<article class=\"markdown preview\">" + render_markdown(card.ok() ? card->body : v.head) + "</article>";
  } else {
    o += "<pre class=\"preview\" tabindex=\"0\"><code>" + esc(v.head) + "</code></pre>";
    if (v.truncated) o += "<p class=\"muted\">Preview shows the first " + human_size(v.head.size()) + ".</p>";
  }
  return page(f, o);
}

std::string commits_page(const Frame& f, const RepoView& v, const std::vector<Commit>& commits, const std::string& rev) {
  std::string o = repo_header(v.repo, v.role, rev, "commits");
  if (commits.empty()) return page(f, o + "<section class=\"empty\"><p>No commits yet.</p></section>");
  o += "<ol class=\"history\">";
  for (auto& c : commits) {
    uint64_t bytes = 0;
    for (auto& file : c.files) bytes += file.size;
    o += "<li><div class=\"msg\">" + esc(c.message.empty() ? "(no message)" : c.message) + "</div><div class=\"meta\">" +
         esc(c.author) + " · <time>" + human_time(c.created_at) + "</time> · " + std::to_string(c.files.size()) + " files, " +
         human_size(bytes) + "</div><a class=\"mono\" href=\"" + repo_url(v.repo) + "/tree/" + esc(c.id) + "\">" + short_id(c.id) +
         "</a></li>";
  }
  return page(f, o + "</ol>");
}

std::string settings_page(const Frame& f, const AccessView& v) {
  std::string base = repo_url(v.repo);
  std::string o = repo_header(v.repo, RepoRole::kAdmin, "main", "settings");
  o += "<section class=\"card\"><h2>Visibility</h2><form class=\"inline\" action=\"" + base + "/settings/visibility\" method=\"post\">" +
       csrf_field(f) + "<label for=\"visibility\">Who can see this model</label><select id=\"visibility\" name=\"visibility\">" +
       option("private", "Private: owners and people granted access", v.repo.visibility == Visibility::kPrivate) +
       option("internal", v.repo.owner_kind == OwnerKind::kOrg ? "Internal: every member of " + v.repo.owner : "Internal: everyone on this hub",
              v.repo.visibility == Visibility::kInternal) +
       "</select><button type=\"submit\">Save</button></form></section>";

  o += "<section class=\"card\"><h2>Who has access</h2><div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Who has access\"><table><thead><tr><th scope=\"col\">Who</th>"
       "<th scope=\"col\">Role</th><th scope=\"col\">Through</th><th scope=\"col\"><span class=\"sr\">Actions</span></th></tr></thead><tbody>";
  if (v.repo.owner_kind == OwnerKind::kUser) {
    o += "<tr><td>" + esc(v.repo.owner) + "</td><td>" + badge("admin", "role") + "</td><td>owner</td><td></td></tr>";
  }
  for (auto& m : v.org_members) {
    std::string role = m.role == OrgRole::kMember ? (v.repo.visibility == Visibility::kInternal ? "read" : "") : "admin";
    if (role.empty()) continue;
    o += "<tr><td>" + esc(m.user) + "</td><td>" + badge(role, "role") + "</td><td>organization " + esc(std::string(to_string(m.role))) +
         "</td><td></td></tr>";
  }
  for (auto& g : v.grants) {
    std::string subject = std::string(to_string(g.subject)) + ":" + g.subject_name;
    o += "<tr><td>" + esc(g.subject == SubjectKind::kTeam ? "team " + g.subject_name : g.subject_name) + "</td><td>" +
         badge(std::string(to_string(g.role)), "role") + "</td><td>grant</td><td><form action=\"" + base +
         "/settings/grants\" method=\"post\">" + csrf_field(f) + "<input type=\"hidden\" name=\"subject\" value=\"" + esc(subject) +
         "\"><input type=\"hidden\" name=\"role\" value=\"none\"><button class=\"danger small\" type=\"submit\" aria-label=\"Revoke " +
         esc(subject) + "\">Revoke</button></form></td></tr>";
  }
  o += "</tbody></table></div></section>";

  o += "<section class=\"card\"><h2>Grant access</h2><form class=\"grid-form\" action=\"" + base + "/settings/grants\" method=\"post\">" +
       csrf_field(f) + "<div><label for=\"subject\">User or team</label><input id=\"subject\" name=\"subject\" required list=\"subjects\" "
       "placeholder=\"user:bob or team:acme/research\" spellcheck=\"false\"><datalist id=\"subjects\">";
  for (auto& t : v.org_teams) o += "<option value=\"team:" + esc(t.org + "/" + t.name) + "\"></option>";
  for (auto& m : v.org_members) o += "<option value=\"user:" + esc(m.user) + "\"></option>";
  o += "</datalist></div><div><label for=\"role\">Role</label><select id=\"role\" name=\"role\">" + option("read", "read", true) +
       option("write", "write", false) + option("admin", "admin", false) +
       "</select></div><div class=\"form-end\"><button type=\"submit\">Grant</button></div></form>"
       "<p class=\"muted\">Read downloads, write pushes commits, admin manages access. Every change is written to the audit trail.</p></section>";
  return page(f, o);
}

std::string org_page(const Frame& f, const OrgView& v) {
  std::string base = "/orgs/" + url_path(v.org.name);
  std::string o = "<div class=\"page-head\"><h1>" + esc(v.org.name) + "</h1><p class=\"muted\">Organization · " +
                  std::to_string(v.members.size()) + (v.members.size() == 1 ? " member · " : " members · ") +
                  std::to_string(v.teams.size()) + (v.teams.size() == 1 ? " team" : " teams") + "</p></div>";
  o += "<div class=\"two-col\"><section class=\"card\"><h2>Members</h2><div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Members\"><table><thead><tr>"
       "<th scope=\"col\">User</th><th scope=\"col\">Role</th>" +
       std::string(v.may_manage ? "<th scope=\"col\"><span class=\"sr\">Actions</span></th>" : "") + "</tr></thead><tbody>";
  for (auto& m : v.members) {
    o += "<tr><td>" + esc(m.user) + "</td><td>" + badge(std::string(to_string(m.role)), "role") + "</td>";
    if (v.may_manage) {
      o += "<td><form action=\"" + base + "/members/remove\" method=\"post\">" + csrf_field(f) +
           "<input type=\"hidden\" name=\"user\" value=\"" + esc(m.user) + "\"><button class=\"danger small\" type=\"submit\" aria-label=\"Remove " +
           esc(m.user) + "\">Remove</button></form></td>";
    }
    o += "</tr>";
  }
  o += "</tbody></table></div>";
  if (v.may_manage) {
    o += "<form class=\"grid-form\" action=\"" + base + "/members\" method=\"post\">" + csrf_field(f) +
         "<div><label for=\"member-user\">User</label><input id=\"member-user\" name=\"user\" required spellcheck=\"false\"></div>"
         "<div><label for=\"member-role\">Role</label><select id=\"member-role\" name=\"role\">" +
         option("member", "member", true) + option("admin", "admin", false) + option("owner", "owner", false) +
         "</select></div><div class=\"form-end\"><button type=\"submit\">Add or change</button></div></form>";
  }
  o += "</section><section class=\"card\"><h2>Teams</h2>";
  if (v.teams.empty()) o += "<p class=\"muted\">No teams yet.</p>";
  for (auto& t : v.teams) {
    o += "<div class=\"team\"><h3>" + esc(t.team.name) + "</h3><p>";
    if (t.members.empty()) o += "<span class=\"muted\">no members</span>";
    for (size_t i = 0; i < t.members.size(); ++i) o += (i ? ", " : "") + esc(t.members[i]);
    o += "</p>";
    if (v.may_manage) {
      std::string id = "team-" + esc(t.team.name);
      o += "<form class=\"inline\" action=\"" + base + "/teams/members\" method=\"post\">" + csrf_field(f) +
           "<input type=\"hidden\" name=\"team\" value=\"" + esc(t.team.name) + "\"><label for=\"" + id + "\">Member</label><input id=\"" + id +
           "\" name=\"user\" required spellcheck=\"false\"><select name=\"op\" aria-label=\"Add or remove\">" + option("add", "add", true) +
           option("remove", "remove", false) + "</select><button type=\"submit\">Apply</button></form>";
    }
    o += "</div>";
  }
  if (v.may_manage) {
    o += "<form class=\"inline\" action=\"" + base + "/teams\" method=\"post\">" + csrf_field(f) +
         "<label for=\"team-name\">New team</label><input id=\"team-name\" name=\"team\" required spellcheck=\"false\">"
         "<button type=\"submit\">Create team</button></form>";
  }
  o += "</section></div><section><h2>Models</h2>";
  if (v.repos.empty()) o += "<p class=\"muted\">No models you can see.</p>";
  o += "<ul class=\"models\">";
  for (auto& r : v.repos) o += "<li><a href=\"" + repo_url(r) + "\"><span class=\"name\">" + esc(r.name) + "</span></a> " + visibility_badge(r.visibility) + "</li>";
  return page(f, o + "</ul></section>");
}

std::string tokens_page(const Frame& f, const std::vector<Token>& tokens, const std::optional<IssuedToken>& created,
                        unsigned session_scopes) {
  std::string o = "<div class=\"page-head\"><h1>Access tokens</h1><p class=\"muted\">Tokens sign in Hugging Face clients, "
                  "the CLI and this site. A token never has more rights than you.</p></div>";
  if (created) {
    o += "<section class=\"card created\" role=\"status\"><h2>Token “" + esc(created->token.name) +
         "” created</h2><p>Copy it now: it is shown only once.</p><input class=\"secret\" readonly aria-label=\"New token\" value=\"" +
         esc(created->secret) + "\"></section>";
  }
  o += "<section class=\"card\"><h2>New token</h2><form class=\"grid-form\" action=\"/settings/tokens\" method=\"post\">" + csrf_field(f) +
       "<div><label for=\"token-name\">Name</label><input id=\"token-name\" name=\"name\" required maxlength=\"100\" placeholder=\"laptop\"></div>"
       "<div><label for=\"token-scopes\">Scope</label><select id=\"token-scopes\" name=\"scopes\">" + option("read", "read", true);
  if (session_scopes & kScopeWrite) o += option("write", "write", false);
  if (session_scopes & kScopeAdmin) o += option("admin", "admin", false);
  o += "</select></div><div><label for=\"token-ttl\">Expires</label><select id=\"token-ttl\" name=\"expires_days\">" +
       option("30", "in 30 days", false) + option("90", "in 90 days", true) + option("365", "in a year", false) +
       option("0", "never", false) + "</select></div><div class=\"form-end\"><button type=\"submit\">Create token</button></div></form></section>";
  o += "<section class=\"card\"><h2>Your tokens</h2><div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Your tokens\"><table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Id</th>"
       "<th scope=\"col\">Scope</th><th scope=\"col\">Created</th><th scope=\"col\">Expires</th><th scope=\"col\">Status</th>"
       "<th scope=\"col\"><span class=\"sr\">Actions</span></th></tr></thead><tbody>";
  int64_t now = now_unix();
  for (auto& t : tokens) {
    bool live = t.revoked_at == 0 && (t.expires_at == 0 || t.expires_at > now);
    o += "<tr><td>" + esc(t.name) + "</td><td><code>" + esc(t.id) + "</code></td><td>" + esc(scopes_to_string(t.scopes)) + "</td><td>" +
         human_time(t.created_at) + "</td><td>" + (t.expires_at ? human_time(t.expires_at) : "never") + "</td><td>" +
         (t.revoked_at ? badge("revoked", "private") : live ? badge("active", "ok") : badge("expired", "private")) + "</td><td>";
    if (live) {
      o += "<form action=\"/settings/tokens/revoke\" method=\"post\">" + csrf_field(f) + "<input type=\"hidden\" name=\"id\" value=\"" +
           esc(t.id) + "\"><button class=\"danger small\" type=\"submit\" aria-label=\"Revoke token " + esc(t.name) + "\">Revoke</button></form>";
    }
    o += "</td></tr>";
  }
  return page(f, o + "</tbody></table></div></section>");
}

std::string audit_page(const Frame& f, const AuditPage& p, const AuditQuery& q) {
  std::string filters = "actor=" + url_query(q.actor) + "&action=" + url_query(q.action) + "&repository=" + url_query(q.repository) +
                        "&outcome=" + url_query(q.outcome) + "&since=" + url_query(q.since) + "&until=" + url_query(q.until);
  std::string o = "<div class=\"page-head\"><h1>Audit trail</h1><p class=\"muted\">" +
                  (p.everything ? std::string("Every entry on this hub") : "Entries of " + esc([&] {
                    std::string s;
                    for (size_t i = 0; i < p.orgs.size(); ++i) s += (i ? ", " : "") + p.orgs[i];
                    return s;
                  }())) +
                  "</p></div>";
  o += std::string("<p class=\"chain ") + (p.chain_ok ? "chain-ok" : "chain-bad") + "\" role=\"status\"><strong>" +
       (p.chain_ok ? "Chain verified" : "Chain verification FAILED") + "</strong> " + esc(p.chain_message) + "</p>";
  o += "<form class=\"filters\" action=\"/audit\" method=\"get\">"
       "<div><label for=\"f-actor\">Actor</label><input id=\"f-actor\" name=\"actor\" value=\"" + esc(q.actor) + "\" spellcheck=\"false\"></div>"
       "<div><label for=\"f-action\">Action</label><input id=\"f-action\" name=\"action\" value=\"" + esc(q.action) +
       "\" placeholder=\"grant.set\" spellcheck=\"false\"></div>"
       "<div><label for=\"f-repo\">Repository</label><input id=\"f-repo\" name=\"repository\" value=\"" + esc(q.repository) +
       "\" placeholder=\"acme/llama\" spellcheck=\"false\"></div>"
       "<div><label for=\"f-outcome\">Outcome</label><select id=\"f-outcome\" name=\"outcome\">" + option("", "any", q.outcome.empty()) +
       option("allowed", "allowed", q.outcome == "allowed") + option("denied", "denied", q.outcome == "denied") +
       option("error", "error", q.outcome == "error") + "</select></div>"
       "<div><label for=\"f-since\">From</label><input id=\"f-since\" name=\"since\" type=\"date\" value=\"" + esc(q.since) + "\"></div>"
       "<div><label for=\"f-until\">To</label><input id=\"f-until\" name=\"until\" type=\"date\" value=\"" + esc(q.until) + "\"></div>"
       "<div class=\"form-end\"><button type=\"submit\">Filter</button> <a class=\"button secondary\" href=\"/audit/export?" + esc(filters) +
       "\">Export JSONL</a></div></form>";
  if (p.entries.empty()) return page(f, o + "<section class=\"empty\"><p>No entries match.</p></section>");
  o += "<div class=\"table-wrap audit-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Audit entries\"><table class=\"audit\"><thead><tr><th scope=\"col\" class=\"num\">#</th><th scope=\"col\">Time (UTC)</th>"
       "<th scope=\"col\">Actor</th><th scope=\"col\">Action</th><th scope=\"col\">Resource</th><th scope=\"col\">Outcome</th>"
       "<th scope=\"col\">Details</th></tr></thead><tbody>";
  for (auto& e : p.entries) {
    std::string time = e.time.size() >= 19 ? e.time.substr(0, 10) + " " + e.time.substr(11, 8) : e.time;
    std::string kind = e.outcome == "allowed" ? "ok" : e.outcome == "denied" ? "private" : "warn";
    // data-label: on a phone each row stacks into labelled lines (style.css), read without
    // scrolling sideways.
    o += "<tr><td class=\"num\" data-label=\"#\">" + std::to_string(e.seq) + "</td><td class=\"nowrap\" data-label=\"Time\">" +
         esc(time) + "</td><td data-label=\"Actor\">" + esc(e.actor.empty() ? "anonymous" : e.actor) +
         "</td><td data-label=\"Action\"><code>" + esc(e.action) + "</code></td><td class=\"path\" data-label=\"Resource\">" +
         esc(e.resource) + "</td><td data-label=\"Outcome\">" + badge(e.outcome, kind) +
         "</td><td class=\"details\" data-label=\"Details\"><code>" +
         esc(e.details.dump(-1, ' ', false, json::error_handler_t::replace)) + "</code></td></tr>";
  }
  o += "</tbody></table></div>";
  if (p.next_before > 0) {
    o += "<p class=\"pager\"><a class=\"button secondary\" href=\"/audit?" + esc(filters) + "&amp;before=" + std::to_string(p.next_before) +
         "\">Older entries</a></p>";
  }
  return page(f, o);
}

}  // namespace lv::hub::web
