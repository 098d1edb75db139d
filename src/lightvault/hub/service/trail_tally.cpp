#include "lightvault/hub/service/trail_tally.h"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace lv::hub {

using json = nlohmann::json;

namespace {

std::string text_field(const json& details, const char* key) {
  auto it = details.find(key);
  return it != details.end() && it->is_string() ? it->get<std::string>() : "";
}

// Digits at [pos, pos + n) as a number, or -1.
int digits(const std::string& s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<int64_t> parse_utc_time(const std::string& s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+00:00)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return std::nullopt;
  }
  std::string zone = s.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm));
}

void TrailTally::add(const AuditEntry& e) {
  const bool here = e.resource == repo_ || (e.resource.size() > repo_.size() && e.resource.compare(0, repo_.size(), repo_) == 0 &&
                                            e.resource[repo_.size()] == '/');
  if (!here) return;
  ++entries_;
  if (first_.empty()) first_ = e.time;
  last_ = e.time;
  if (e.outcome != kAuditAllowed) {
    ++denied_;
    return;
  }
  const json& d = e.details;
  if (e.action == "model.download") {
    if (text_field(d, "via") == "web") {
      ++page_views_;
      return;
    }
    ++downloads_;
    ++downloads_by_user_[e.actor.empty() ? "(anonymous)" : e.actor];
    if (e.time.size() >= 7) ++downloads_by_month_[e.time.substr(0, 7)];
  } else if (e.action == "model.upload") {
    ++uploads_;
  } else if (e.action == "model.finetune") {
    finetunes_.push_back({e.time, e.actor, text_field(d, "base_model")});
  } else if (e.action == "model.deploy") {
    deploys_.push_back({e.time, e.actor, text_field(d, "target")});
  } else if (e.action == "content.mark") {
    ++marks_;
    ++marks_by_user_[e.actor.empty() ? "(anonymous)" : e.actor];
    if (first_mark_.empty()) first_mark_ = e.time;
    last_mark_ = e.time;
  } else if (e.action.rfind("complaint.", 0) == 0) {
    std::string id = text_field(d, "id");
    if (id.empty()) return;
    Complaint& c = complaints_[id];
    if (e.action == "complaint.receive") {
      c.received = parse_utc_time(e.time);
      c.due = parse_utc_time(text_field(d, "due"));
    } else if (e.action == "complaint.acknowledge") {
      if (!c.closed) c.status = "acknowledged";
    } else if (e.action == "complaint.resolve" || e.action == "complaint.reject") {
      c.status = e.action == "complaint.resolve" ? "resolved" : "rejected";
      c.closed = parse_utc_time(e.time);
    }
  }
}

json TrailTally::audit() const {
  auto events = [](const std::vector<Event>& list, const char* detail) {
    json out = json::array();
    for (auto& ev : list) out.push_back({{"time", ev.time}, {"by", ev.actor}, {detail, ev.detail}});
    return out;
  };
  return json{{"entries", entries_},
              {"first", first_.empty() ? json() : json(first_)},
              {"last", last_.empty() ? json() : json(last_)},
              {"downloads", downloads_},
              {"downloads_by_user", downloads_by_user_},
              {"downloads_by_month", downloads_by_month_},
              {"page_views", page_views_},
              {"uploads", uploads_},
              {"finetunes", events(finetunes_, "base_model")},
              {"deploys", events(deploys_, "target")},
              {"denied", denied_}};
}

json TrailTally::labeling() const {
  return json{{"marks_issued", marks_},
              {"marked_outputs", marks_ > 0},
              {"first", first_mark_.empty() ? json() : json(first_mark_)},
              {"last", last_mark_.empty() ? json() : json(last_mark_)},
              {"by_user", marks_by_user_}};
}

json TrailTally::complaints(int64_t now) const {
  int64_t received = 0, open = 0, overdue = 0, acknowledged = 0, resolved = 0, rejected = 0;
  std::vector<int64_t> seconds_to_close;
  json overdue_ids = json::array();
  for (auto& [id, c] : complaints_) {
    if (!c.received) continue;  // a step without its receipt: not a complaint of this repository's trail
    ++received;
    if (c.status == "resolved") ++resolved;
    if (c.status == "rejected") ++rejected;
    if (c.closed) {
      seconds_to_close.push_back(std::max<int64_t>(0, *c.closed - *c.received));
      continue;
    }
    ++open;
    if (c.status == "acknowledged") ++acknowledged;
    if (c.due && *c.due < now) {
      ++overdue;
      overdue_ids.push_back(id);
    }
  }
  json median = nullptr;
  if (!seconds_to_close.empty()) {
    std::sort(seconds_to_close.begin(), seconds_to_close.end());
    size_t n = seconds_to_close.size();
    double mid = n % 2 ? static_cast<double>(seconds_to_close[n / 2])
                       : (static_cast<double>(seconds_to_close[n / 2 - 1]) + static_cast<double>(seconds_to_close[n / 2])) / 2;
    median = mid / 3600.0;
  }
  return json{{"received", received},   {"open", open},         {"overdue", overdue},
              {"acknowledged", acknowledged}, {"resolved", resolved}, {"rejected", rejected},
              {"median_hours_to_resolve", median}, {"overdue_ids", overdue_ids}};
}

}  // namespace lv::hub
