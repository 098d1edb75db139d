#pragma once
// The HTML of each page of the web interface, from the data page_data.h returns. Pure
// functions: no I/O, every value escaped (html.h), Markdown through render_markdown. Pages
// use no inline script or style (the Content-Security-Policy allows neither); the one style
// sheet is /static/style.css, and reading works without JavaScript.
#include <optional>
#include <string>
#include <vector>

#include "lightvault/hub/web/page_data.h"

namespace lv::hub::web {

// What every page shows around its content: who is signed in, the session's CSRF token for
// the sign-out form, and which navigation links apply.
struct Frame {
  std::string title;
  std::string user;        // "" when signed out
  std::string csrf;        // the session's CSRF token ("" when signed out)
  bool audit_link = false;  // site or organization admin
  std::vector<std::string> orgs;
  std::string query;       // the search box's value
  std::string notice;      // a one-line confirmation ("Access granted"), or ""
  std::string error;       // a one-line error, or ""
};

std::string page(const Frame& frame, const std::string& content);
std::string error_page(const Frame& frame, int status, const std::string& message);

std::string login_page(const Frame& frame, const std::string& login_csrf, const std::string& next);
std::string logout_page(const Frame& frame);
std::string home_page(const Frame& frame, const std::vector<Repo>& repos);
std::string repo_page(const Frame& frame, const RepoView& view, const std::string& rev);
// The compliance report of the revision (HubService::compliance_report's JSON), printable.
std::string compliance_page(const Frame& frame, const ComplianceView& view, const std::string& rev);
std::string tree_page(const Frame& frame, const RepoView& view, const std::string& rev, const std::string& dir);
std::string blob_page(const Frame& frame, const BlobView& view, const std::string& rev, RepoRole role);
std::string commits_page(const Frame& frame, const RepoView& view, const std::vector<Commit>& commits, const std::string& rev);
std::string settings_page(const Frame& frame, const AccessView& view);
std::string org_page(const Frame& frame, const OrgView& view);
std::string tokens_page(const Frame& frame, const std::vector<Token>& tokens, const std::optional<IssuedToken>& created,
                        unsigned session_scopes);
std::string audit_page(const Frame& frame, const AuditPage& page, const AuditQuery& query);

}  // namespace lv::hub::web
