// `lightvault admin ...`: every administrative action of the hub, over its API.
//   admin user create NAME [--site-admin]        admin user list
//   admin org create NAME [--owner USER]         admin org list
//   admin team create ORG TEAM
//   admin member add ORG USER [--role member|admin|owner]   admin member remove ORG USER
//   admin team-member add ORG TEAM USER          admin team-member remove ORG TEAM USER
//   admin grant OWNER/NAME user:USER|team:ORG/TEAM read|write|admin|none
//   admin token create [--user U] [--name N] [--scopes read,write,admin] [--expires-in SECONDS]
//   admin token list [--user U]                  admin token revoke TOKEN_ID
//   admin visibility OWNER/NAME private|internal
//   admin policy ORG [--require-card-complete on|off]   (without an option: shows the policy)
//   admin delete OWNER/NAME                      (its files stay stored until `admin gc`)
//   admin event OWNER/NAME finetune --base-model M | deploy --target T
//   admin rotate-key
//   admin gc [--grace SECONDS] [--dry-run]
//   admin complaints [--overdue] [--repo OWNER/NAME] [--status S]   (a table; overdue ones flagged)
//   admin complaints channel OWNER/NAME public|private   (who may file: anyone, or only readers)
//   admin complaints webhook ORG URL                     (URL "" removes it)
// Server and token: LIGHTVAULT_URL, LIGHTVAULT_TOKEN (or --url/--token).
#include <cstdio>
#include <utility>

#include "cli/command.h"
#include "lightvault/hub/storage/blob_gc.h"
#include "lightvault/hub/client/hub_client.h"
#include "lightvault/hub/service/complaint_service.h"

namespace lv::cli {
namespace {

using json = nlohmann::json;

struct AdminArgs {
  std::string url, token;
  std::string a, b, c;  // positionals of the chosen action
  std::string role = "member", owner, user, name = "cli", scopes = "read", base_model, target;
  bool site_admin = false;
  int64_t expires_in = 0;
  int64_t grace_seconds = hub::kDefaultGcGraceSeconds;
  bool dry_run = false;
  bool overdue = false;
  std::string repo, status;
  std::string require_card_complete;  // on|off, "" = leave as it is
  std::function<Result<json>(hub::HubClient&)> action;
  std::function<void(const json&)> printer;  // default: print()
};

void print(const json& j) {
  if (j.is_array()) {
    for (auto& x : j) std::printf("%s\n", x.dump().c_str());
  } else if (j.contains("token")) {
    std::printf("token id %s for %s (scopes %s). The token, shown only this once:\n%s\n", j.value("id", "").c_str(),
                j.value("user", "").c_str(), j.value("scopes", "").c_str(), j.value("token", "").c_str());
  } else {
    std::printf("%s\n", j.dump().c_str());
  }
}

// Complaints as a table, one per line, overdue ones flagged.
void print_complaints(const json& list) {
  std::printf("%-28s %-32s %-12s %-20s %-20s %-7s %s\n", "ID", "REPO", "STATUS", "RECEIVED", "DUE", "FLAG", "SUBJECT");
  for (auto& c : list) {
    auto day_time = [](const json& t) { return t.is_string() ? t.get<std::string>().substr(0, 16) + "Z" : std::string("-"); };
    std::string subject = c.value("subject", "");
    for (auto& ch : subject) {
      if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    }
    std::printf("%-28s %-32s %-12s %-20s %-20s %-7s %s\n", c.value("id", "").c_str(), c.value("repo", "").c_str(),
                c.value("status", "").c_str(), day_time(c["received"]).c_str(), day_time(c["due"]).c_str(),
                c.value("overdue", false) ? "OVERDUE" : "", hub::first_chars(subject, 60).c_str());
  }
  std::printf("%zu complaint%s\n", list.size(), list.size() == 1 ? "" : "s");
}

CommandRegistrar admin_cmd("admin", "Administer the hub: users, organizations, teams, memberships, grants, tokens, keys", [](CLI::App& sub) {
  auto a = std::make_shared<AdminArgs>();
  sub.add_option("--url", a->url, "Hub URL (default: $LIGHTVAULT_URL)");
  sub.add_option("--token", a->token, "Token (default: $LIGHTVAULT_TOKEN)");
  sub.require_subcommand(1);

  auto* user = sub.add_subcommand("user", "Users")->require_subcommand(1);
  auto* user_create = user->add_subcommand("create", "Create a user");
  user_create->add_option("name", a->a)->required();
  user_create->add_flag("--site-admin", a->site_admin, "Make the user a site administrator");
  user_create->callback([a] { a->action = [a](hub::HubClient& c) { return c.post("/api/lv/users", {{"name", a->a}, {"site_admin", a->site_admin}}); }; });
  user->add_subcommand("list", "List users")->callback([a] { a->action = [](hub::HubClient& c) { return c.get("/api/lv/users"); }; });

  auto* org = sub.add_subcommand("org", "Organizations")->require_subcommand(1);
  auto* org_create = org->add_subcommand("create", "Create an organization (you become its owner)");
  org_create->add_option("name", a->a)->required();
  org_create->add_option("--owner", a->owner, "Owner (site admins only; default: you)");
  org_create->callback([a] {
    a->action = [a](hub::HubClient& c) {
      json body{{"name", a->a}};
      if (!a->owner.empty()) body["owner"] = a->owner;
      return c.post("/api/lv/orgs", body);
    };
  });
  org->add_subcommand("list", "List organizations")->callback([a] { a->action = [](hub::HubClient& c) { return c.get("/api/lv/orgs"); }; });

  auto* team = sub.add_subcommand("team", "Teams")->require_subcommand(1);
  auto* team_create = team->add_subcommand("create", "Create a team in an organization");
  team_create->add_option("org", a->a)->required();
  team_create->add_option("team", a->b)->required();
  team_create->callback([a] { a->action = [a](hub::HubClient& c) { return c.post("/api/lv/orgs/" + a->a + "/teams", {{"name", a->b}}); }; });

  auto* member = sub.add_subcommand("member", "Organization memberships")->require_subcommand(1);
  auto* member_add = member->add_subcommand("add", "Add a user to an organization (or change the role)");
  member_add->add_option("org", a->a)->required();
  member_add->add_option("user", a->b)->required();
  member_add->add_option("--role", a->role, "owner, admin or member")->capture_default_str();
  member_add->callback([a] { a->action = [a](hub::HubClient& c) { return c.post("/api/lv/orgs/" + a->a + "/members", {{"user", a->b}, {"role", a->role}}); }; });
  auto* member_rm = member->add_subcommand("remove", "Remove a user from an organization");
  member_rm->add_option("org", a->a)->required();
  member_rm->add_option("user", a->b)->required();
  member_rm->callback([a] { a->action = [a](hub::HubClient& c) { return c.del("/api/lv/orgs/" + a->a + "/members/" + a->b); }; });

  auto* tm = sub.add_subcommand("team-member", "Team memberships")->require_subcommand(1);
  auto* tm_add = tm->add_subcommand("add", "Add an organization member to a team");
  tm_add->add_option("org", a->a)->required();
  tm_add->add_option("team", a->b)->required();
  tm_add->add_option("user", a->c)->required();
  tm_add->callback([a] { a->action = [a](hub::HubClient& c) { return c.post("/api/lv/orgs/" + a->a + "/teams/" + a->b + "/members", {{"user", a->c}}); }; });
  auto* tm_rm = tm->add_subcommand("remove", "Remove a user from a team");
  tm_rm->add_option("org", a->a)->required();
  tm_rm->add_option("team", a->b)->required();
  tm_rm->add_option("user", a->c)->required();
  tm_rm->callback([a] { a->action = [a](hub::HubClient& c) { return c.del("/api/lv/orgs/" + a->a + "/teams/" + a->b + "/members/" + a->c); }; });

  auto* grant = sub.add_subcommand("grant", "Grant a repository role to a user or team (role none removes it)");
  grant->add_option("repo", a->a, "OWNER/NAME")->required();
  grant->add_option("subject", a->b, "user:NAME or team:ORG/TEAM")->required();
  grant->add_option("role", a->c, "read, write, admin or none")->required();
  grant->callback([a] { a->action = [a](hub::HubClient& c) { return c.post("/api/lv/models/" + a->a + "/grants", {{"subject", a->b}, {"role", a->c}}); }; });

  auto* token = sub.add_subcommand("token", "API tokens")->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create a token (printed once)");
  token_create->add_option("--user", a->user, "For another user (site admins only)");
  token_create->add_option("--name", a->name, "A label")->capture_default_str();
  token_create->add_option("--scopes", a->scopes, "read, write or admin")->capture_default_str();
  token_create->add_option("--expires-in", a->expires_in, "Seconds until it expires (0: never)");
  token_create->callback([a] {
    a->action = [a](hub::HubClient& c) {
      json body{{"name", a->name}, {"scopes", a->scopes}, {"expires_in", a->expires_in}};
      if (!a->user.empty()) body["user"] = a->user;
      return c.post("/api/lv/tokens", body);
    };
  });
  auto* token_list = token->add_subcommand("list", "List tokens (ids, never secrets)");
  token_list->add_option("--user", a->user);
  token_list->callback([a] { a->action = [a](hub::HubClient& c) { return c.get("/api/lv/tokens" + (a->user.empty() ? "" : "?user=" + a->user)); }; });
  auto* token_revoke = token->add_subcommand("revoke", "Revoke a token by id");
  token_revoke->add_option("id", a->a)->required();
  token_revoke->callback([a] { a->action = [a](hub::HubClient& c) { return c.del("/api/lv/tokens/" + a->a); }; });

  auto* vis = sub.add_subcommand("visibility", "Set a repository's visibility");
  vis->add_option("repo", a->a)->required();
  vis->add_option("visibility", a->b, "private or internal")->required();
  vis->callback([a] { a->action = [a](hub::HubClient& c) { return c.put("/api/lv/models/" + a->a + "/settings", {{"visibility", a->b}}); }; });

  auto* policy = sub.add_subcommand("policy", "Show or set an organization's policy for its repositories");
  policy->add_option("org", a->a)->required();
  policy->add_option("--require-card-complete", a->require_card_complete,
                     "on: a repository may be made internal (and an internal one pushed to) only with a complete model card")
      ->check(CLI::IsMember({"on", "off"}));
  policy->callback([a] {
    a->action = [a](hub::HubClient& c) -> Result<json> {
      if (a->require_card_complete.empty()) return c.get("/api/lv/orgs/" + a->a + "/policy");
      return c.put("/api/lv/orgs/" + a->a + "/policy", {{"require_card_complete", a->require_card_complete == "on"}});
    };
  });

  auto* del = sub.add_subcommand("delete", "Delete a repository with its history (`admin gc` then frees its files)");
  del->add_option("repo", a->a)->required();
  del->callback([a] { a->action = [a](hub::HubClient& c) { return c.del("/api/lv/models/" + a->a); }; });

  auto* event = sub.add_subcommand("event", "Record a lifecycle event: finetune (--base-model) or deploy (--target)");
  event->add_option("repo", a->a)->required();
  event->add_option("kind", a->b, "finetune or deploy")->required()->check(CLI::IsMember({"finetune", "deploy"}));
  event->add_option("--base-model", a->base_model);
  event->add_option("--target", a->target);
  event->callback([a] {
    a->action = [a](hub::HubClient& c) {
      json details = json::object();
      if (!a->base_model.empty()) details["base_model"] = a->base_model;
      if (!a->target.empty()) details["target"] = a->target;
      return c.post("/api/lv/models/" + a->a + "/events", {{"action", "model." + a->b}, {"details", details}});
    };
  });

  sub.add_subcommand("rotate-key", "Rotate the master key and rewrap every data key")->callback([a] {
    a->action = [](hub::HubClient& c) { return c.post("/api/lv/admin/rotate-key", json::object()); };
  });

  auto* gc = sub.add_subcommand("gc", "Remove stored blobs that no revision references (interrupted pushes, deleted repositories)");
  gc->add_option("--grace", a->grace_seconds, "Spare blobs uploaded less than this many seconds ago (a push in progress)")
      ->check(CLI::Range(int64_t{0}, hub::kMaxGcGraceSeconds));
  gc->add_flag("--dry-run", a->dry_run, "Count what would be removed, remove nothing");
  gc->callback([a] {
    a->action = [a](hub::HubClient& c) {
      return c.post("/api/lv/admin/gc", {{"grace_seconds", a->grace_seconds}, {"dry_run", a->dry_run}});
    };
  });

  auto* complaints = sub.add_subcommand("complaints", "Complaints about the repositories you administer (a table; overdue ones flagged)");
  complaints->add_flag("--overdue", a->overdue, "Only open complaints past their 72-hour deadline");
  complaints->add_option("--repo", a->repo, "Only this repository (OWNER/NAME)");
  complaints->add_option("--status", a->status, "Only this status: received, acknowledged, resolved, rejected or open")
      ->check(CLI::IsMember({"received", "acknowledged", "resolved", "rejected", "open"}));
  complaints->require_subcommand(0, 1);
  auto* channel = complaints->add_subcommand("channel", "Let anyone (public) or only readers (private) file complaints about a repository");
  channel->add_option("repo", a->a, "OWNER/NAME")->required();
  channel->add_option("who", a->b, "public or private")->required()->check(CLI::IsMember({"public", "private"}));
  channel->callback([a] {
    a->action = [a](hub::HubClient& c) {
      return c.put("/api/lv/models/" + a->a + "/complaints/channel", {{"public", a->b == "public"}});
    };
  });
  auto* webhook = complaints->add_subcommand("webhook", "Set an organization's webhook for overdue complaints (\"\" removes it)");
  webhook->add_option("org", a->a)->required();
  webhook->add_option("url", a->b, "http://HOST[:PORT]/PATH")->required();
  webhook->callback([a] {
    a->action = [a](hub::HubClient& c) { return c.put("/api/lv/orgs/" + a->a + "/complaints/webhook", {{"url", a->b}}); };
  });
  complaints->callback([a, complaints] {
    if (!complaints->get_subcommands().empty()) return;  // channel or webhook
    a->printer = print_complaints;
    a->action = [a](hub::HubClient& c) {
      std::string query;
      auto add = [&](const std::string& k, const std::string& v) { query += (query.empty() ? "?" : "&") + k + "=" + v; };
      if (!a->repo.empty()) add("repo", a->repo);
      if (!a->status.empty()) add("status", a->status);
      if (a->overdue) add("overdue", "true");
      return c.get("/api/lv/complaints" + query);
    };
  });

  return [a]() -> int {
    if (!a->action) return fail(make_error("admin", "no action given"));
    // The action holds `a`: take it out of `a`, or the two would keep each other alive.
    auto action = std::exchange(a->action, nullptr);
    auto client = hub::HubClient::connect(a->url, a->token);
    if (!client.ok()) return fail(client.error());
    auto r = action(**client);
    if (!r.ok()) return fail(r.error());
    if (a->printer) {
      a->printer(*r);
    } else {
      print(*r);
    }
    return 0;
  };
});

}  // namespace
}  // namespace lv::cli
