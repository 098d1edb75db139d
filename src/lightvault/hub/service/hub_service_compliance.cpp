// The hub's compliance use cases: the model-card check on push and before a repository is made
// internal, organizations' policies, and the per-model compliance report (see hub_service.h).
#include <algorithm>
#include <ctime>

#include "lightvault/hub/service/card_check.h"
#include "lightvault/hub/service/evaluation_files.h"
#include "lightvault/hub/service/hub_service.h"
#include "lightvault/hub/service/model_card.h"
#include "lightvault/hub/service/trail_tally.h"
#include "lightvault/util/text.h"
#include "lightvault/util/utc_time.h"

namespace lv::hub {

using json = nlohmann::json;

namespace {

constexpr uint64_t kMaxCardBytes = 1u << 20;  // as card_metadata reads README.md

ServiceError internal(const Error& e) { return ServiceError{ErrorCode::kInternal, e.message}; }

bool is_weights_file(const std::string& path) {
  for (const char* ext : {".gguf", ".safetensors", ".bin", ".pt", ".pth", ".onnx"}) {
    if (ends_with(path, ext)) return true;
  }
  return false;
}

// The card's value at `key`, null when absent.
json card_field(const json& card, const char* key) {
  if (!card.is_object()) return nullptr;
  auto it = card.find(key);
  return it == card.end() ? json() : *it;
}

}  // namespace

Result<OrgPolicy> HubService::policy_of(const Repo& repo) {
  if (repo.owner_kind != OwnerKind::kOrg) return OrgPolicy{};
  return catalog_.org_policy(repo.owner_id);
}

CardStatus HubService::card_status(const Repo& repo, const std::vector<FileEntry>& files) {
  CardStatus status;
  auto readme = std::find_if(files.begin(), files.end(), [](const FileEntry& f) { return f.path == "README.md"; });
  json metadata = json::object();
  if (readme != files.end()) {
    status.has_card = true;
    auto text = read_small_blob(repo, *readme, kMaxCardBytes);
    if (!text) {
      status.error = readme->size > kMaxCardBytes ? "README.md is larger than 1 MiB" : "README.md cannot be read";
    } else if (auto card = parse_model_card(*text); !card.ok()) {
      status.error = card.error().message;
    } else {
      metadata = card->metadata;
    }
  }
  status.missing = missing_card_fields(metadata);
  return status;
}

Outcome<OrgPolicy> HubService::org_policy(const Caller& caller, const std::string& org) {
  auto detail = org_detail(caller, org);
  if (!detail.ok()) return detail.error();
  auto policy = catalog_.org_policy(detail->org.id);
  if (!policy.ok()) return internal(policy.error());
  return *policy;
}

Outcome<OrgPolicy> HubService::set_org_policy(const Caller& caller, const std::string& org_name, const OrgPolicy& policy) {
  std::string resource = org_name + "/policy";
  if (auto login = require_login(caller, "org.policy", resource); !login.ok()) return login.error();
  auto org = catalog_.find_org(org_name);
  if (!org.ok()) return internal(org.error());
  if (!org->has_value()) return refuse(caller, "org.policy", resource, {ErrorCode::kNotFound, "no organization " + org_name});
  if (!org_admin(caller.who, **org)) {
    return refuse(caller, "org.policy", resource,
                  {ErrorCode::kDenied, "only an organization owner or admin (admin token) can set its policy", "Forbidden"},
                  org_name);
  }
  Status st = change(caller, "org.policy", resource, org_name, [&](json& d) -> Status {
    d = json{{"require_card_complete", policy.require_card_complete}};
    return catalog_.set_org_policy((*org)->id, policy);
  });
  if (!st.ok()) return rejected(caller, "org.policy", resource, st.error(), ErrorCode::kInternal, org_name);
  return policy;
}

Outcome<json> HubService::compliance_report(const Caller& caller, const std::string& owner, const std::string& name,
                                            const std::string& revision) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(caller, owner, name, Action::kRead, "compliance.report");
  if (!repo.ok()) return repo.error();
  std::string org = repo_org(*repo);
  auto commit = catalog_.resolve(repo->id, revision);
  if (!commit.ok()) return internal(commit.error());
  if (!commit->has_value()) {
    return refuse(caller, "compliance.report", resource,
                  {ErrorCode::kNotFound, "revision " + revision + " not found in " + resource, "RevisionNotFound"}, org);
  }
  const Commit& c = **commit;
  // The report's own entry first: the chain head the report names then includes it, so the
  // trail says who drew which report, and a verify run right after ends where the report does.
  audit_event(caller, "compliance.report", resource, kAuditAllowed, json{{"commit", c.id}}, org);

  const int64_t now = now_unix();
  json report;
  report["generated_at"] = utc_rfc3339(now);

  // ---- the model: identity, weights, lineage
  json card = json::object();
  CardStatus card_state = card_status(*repo, c.files);
  if (card_state.has_card && card_state.error.empty()) {
    if (auto text = read_small_file(*repo, c, "README.md", kMaxCardBytes)) {
      if (auto parsed = parse_model_card(*text); parsed.ok()) card = parsed->metadata;
    }
  }
  json weights = json::array();
  uint64_t bytes = 0;
  for (auto& f : c.files) {
    bytes += f.size;
    if (is_weights_file(f.path)) weights.push_back({{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}});
  }
  json evaluation = json::array(), unreadable = json::array(), lineage = json::array();
  for (auto& f : c.files) {
    if (!is_evaluation_file(f.path)) continue;
    auto text = read_small_blob(*repo, f, kMaxEvaluationFileBytes);
    if (!text) {
      unreadable.push_back({{"source", f.path}, {"error", "larger than 8 MiB or unreadable"}});
      continue;
    }
    auto figures = evaluation_figures(f.path, *text);
    if (!figures.ok()) {
      unreadable.push_back({{"source", f.path}, {"error", figures.error().message}});
      continue;
    }
    if ((*figures)["kind"] == "compression") {
      json step = {{"step", "compressed"}, {"report", f.path}};
      for (const char* k : {"input", "removed_heads", "total_heads", "quantization", "importance"}) {
        if (figures->contains(k)) step[k] = (*figures)[k];
      }
      lineage.push_back(step);
    }
    evaluation.push_back(std::move(*figures));
  }
  json base = card_field(card, "base_model");
  if (!base.is_null()) lineage.insert(lineage.begin(), json{{"step", "derived from"}, {"base_model", base}});
  report["model"] = {{"repo", resource},
                     {"owner", repo->owner},
                     {"owner_kind", std::string(to_string(repo->owner_kind))},
                     {"visibility", std::string(to_string(repo->visibility))},
                     {"created", utc_rfc3339(repo->created_at)},
                     {"revision", revision},
                     {"commit", c.id},
                     {"committed_at", utc_rfc3339(c.created_at)},
                     {"committed_by", c.author},
                     {"message", c.message},
                     {"files", c.files.size()},
                     {"bytes", bytes},
                     {"weights", weights},
                     {"license", card_field(card, "license")},
                     {"lineage", lineage}};
  report["intended_use"] = card_field(card, "intended_use");
  report["limitations"] = card_field(card, "limitations");

  // ---- training data, and what the card lacks
  json training = card_field(card, "training_data");
  if (!training.is_object()) training = json::object();
  report["training_data"] = {{"card", card_state.has_card ? json("README.md") : json()},
                             {"card_error", card_state.error.empty() ? json() : json(card_state.error)},
                             {"datasets", card_field(card, "datasets")},
                             {"sources", card_field(training, "sources")},
                             {"cleaning_methods", card_field(training, "cleaning_methods")},
                             {"personal_data", card_field(training, "personal_data")},
                             {"copyright_opt_outs_respected", card_field(training, "copyright_opt_outs_respected")},
                             {"complete", card_state.complete()},
                             {"missing", card_state.missing}};
  report["evaluation"] = {{"results", evaluation}, {"unreadable", unreadable}};

  // ---- access: who can read and write, and through what
  json access = json::array();
  auto users = catalog_.list_users();
  if (!users.ok()) return internal(users.error());
  for (auto& u : *users) {
    if (u.site_admin) access.push_back({{"subject", "user:" + u.name}, {"role", "admin"}, {"via", "site administrator"}});
  }
  if (repo->owner_kind == OwnerKind::kUser) {
    access.push_back({{"subject", "user:" + repo->owner}, {"role", "admin"}, {"via", "owner"}});
    if (repo->visibility == Visibility::kInternal) {
      access.push_back({{"subject", "every signed-in user"}, {"role", "read"}, {"via", "internal visibility"}});
    }
  } else {
    auto members = catalog_.list_memberships(repo->owner_id);
    if (!members.ok()) return internal(members.error());
    for (auto& m : *members) {
      if (m.role == OrgRole::kOwner || m.role == OrgRole::kAdmin) {
        access.push_back({{"subject", "user:" + m.user}, {"role", "admin"}, {"via", "organization " + std::string(to_string(m.role))}});
      } else if (repo->visibility == Visibility::kInternal) {
        access.push_back({{"subject", "user:" + m.user}, {"role", "read"}, {"via", "organization member, internal visibility"}});
      }
    }
  }
  auto grants = catalog_.list_grants(repo->id);
  if (!grants.ok()) return internal(grants.error());
  for (auto& g : *grants) {
    access.push_back({{"subject", std::string(to_string(g.subject)) + ":" + g.subject_name},
                      {"role", std::string(to_string(g.role))},
                      {"via", "grant"}});
  }
  auto policy = policy_of(*repo);
  if (!policy.ok()) return internal(policy.error());
  report["access"] = {{"visibility", std::string(to_string(repo->visibility))},
                      {"policy", {{"require_card_complete", policy->require_card_complete}}},
                      {"holders", access}};

  // ---- the audit trail: this repository's entries, the chain head they end at, verification
  TrailTally tally(resource);
  int64_t head_seq = 0;
  std::string head_mac;
  Result<VerifyReport> verified = Error{};
  Status st = catalog_.transaction([&]() -> Status {
    verified = audit_.log().verify();
    LV_ASSIGN_OR_RETURN(auto last, audit_.log().store().last());
    if (!last) return Status::Ok();
    head_seq = last->seq;
    return audit_.log().store().scan(1, [&](const AuditRecord& r) {
      if (r.seq > head_seq) return false;
      auto parsed = parse_audit_line(r.line);
      if (!parsed.ok()) return true;  // verification reports it; the tally reads what it can
      if (r.seq == head_seq) head_mac = crypto::hex_encode(crypto::ByteView(parsed->mac.data(), parsed->mac.size()));
      tally.add(parsed->entry);
      return true;
    });
  });
  if (!st.ok()) return internal(st.error());
  if (!verified.ok()) return internal(verified.error());
  report["audit"] = tally.audit();
  report["labeling"] = tally.labeling();
  report["labeling"]["method"] = card_field(card, "labeling");
  report["complaints"] = tally.complaints(now);
  report["audit_chain"] = {{"head_seq", head_seq},
                           {"head_mac", head_mac},
                           {"verified", verified->ok},
                           {"entries_verified", verified->entries},
                           {"message", verified->message}};
  return report;
}

}  // namespace lv::hub
