#include "lightvault/hub/web/compliance_html.h"

#include <cmath>
#include <cstdio>

#include "lightvault/hub/web/html.h"

namespace lv::hub::web {

using json = nlohmann::json;

namespace {

const json kNull;

const json& at(const json& j, const char* key) {
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Any card value: text, lists as lists, mappings as term/definition pairs.
std::string value_html(const json& v, int depth = 0) {
  if (depth > 8) return esc(text_of(v));
  if (v.is_null()) return "<span class=\"cr-missing\">not stated</span>";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    if (v.empty()) return "<span class=\"cr-missing\">none listed</span>";
    std::string o = "<ul>";
    for (auto& x : v) o += "<li>" + value_html(x, depth + 1) + "</li>";
    return o + "</ul>";
  }
  if (v.is_object()) {
    std::string o = "<dl class=\"cr-pairs\">";
    for (auto& [k, x] : v.items()) o += "<dt>" + esc(k) + "</dt><dd>" + value_html(x, depth + 1) + "</dd>";
    return o + "</dl>";
  }
  return esc(text_of(v));
}

std::string number(const json& v, const char* format) {
  if (!v.is_number()) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v.get<double>());
  return buf;
}

std::string count(const json& v) { return v.is_number_integer() ? std::to_string(v.get<int64_t>()) : "–"; }

std::string percent(const json& v) { return v.is_number() ? number(json(100.0 * v.get<double>()), "%.2f%%") : "–"; }

std::string bytes(const json& v) { return v.is_number_unsigned() || v.is_number_integer() ? human_size(v.get<uint64_t>()) : "–"; }

std::string row(const std::string& label, const std::string& value_markup) {
  return "<tr><th scope=\"row\">" + esc(label) + "</th><td>" + value_markup + "</td></tr>";
}

std::string section(const std::string& id, const std::string& title, const std::string& body) {
  return "<section class=\"cr-section\" id=\"" + id + "\"><h2>" + esc(title) + "</h2>" + body + "</section>";
}

std::string facts(const std::string& rows) { return "<table class=\"cr-facts\"><tbody>" + rows + "</tbody></table>"; }

std::string model_section(const json& r) {
  const json& m = at(r, "model");
  std::string rows = row("Repository", "<code>" + esc(text_of(at(m, "repo"))) + "</code>") +
                     row("Visibility", esc(text_of(at(m, "visibility")))) +
                     row("Revision", esc(text_of(at(m, "revision"))) + " = commit <code>" + esc(text_of(at(m, "commit"))) + "</code>") +
                     row("Committed", esc(text_of(at(m, "committed_at"))) + " by " + esc(text_of(at(m, "committed_by"))) +
                                          (at(m, "message").is_string() ? " (“" + esc(text_of(at(m, "message"))) + "”)" : "")) +
                     row("License", value_html(at(m, "license"))) +
                     row("Files", count(at(m, "files")) + " files, " + bytes(at(m, "bytes")));
  std::string o = facts(rows);
  const json& weights = at(m, "weights");
  o += "<h3>Weights</h3>";
  if (!weights.is_array() || weights.empty()) {
    o += "<p class=\"cr-missing\">No weights file (.gguf, .safetensors, .bin, .pt, .onnx) in this revision.</p>";
  } else {
    o += "<table class=\"cr-table\"><thead><tr><th scope=\"col\">File</th><th scope=\"col\" class=\"num\">Size</th>"
         "<th scope=\"col\">SHA-256</th></tr></thead><tbody>";
    for (auto& w : weights) {
      o += "<tr><td>" + esc(text_of(at(w, "path"))) + "</td><td class=\"num\">" + bytes(at(w, "size")) +
           "</td><td><code class=\"cr-hash\">" + esc(text_of(at(w, "sha256"))) + "</code></td></tr>";
    }
    o += "</tbody></table>";
  }
  o += "<h3>Lineage</h3>";
  const json& lineage = at(m, "lineage");
  if (!lineage.is_array() || lineage.empty()) {
    o += "<p class=\"cr-missing\">No base model in the card and no compression report in this revision.</p>";
  } else {
    o += "<ul>";
    for (auto& step : lineage) {
      if (text_of(at(step, "step")) == "derived from") {
        o += "<li>Derived from <strong>" + esc(text_of(at(step, "base_model"))) + "</strong> (model card, base_model)</li>";
        continue;
      }
      o += "<li>Compressed from <code>" + esc(text_of(at(step, "input"))) + "</code>";
      if (at(step, "total_heads").is_number()) {
        o += ": " + count(at(step, "removed_heads")) + " of " + count(at(step, "total_heads")) + " attention heads pruned";
      }
      if (at(step, "importance").is_string()) o += " (" + esc(text_of(at(step, "importance"))) + " importance)";
      if (at(step, "quantization").is_string()) o += ", " + esc(text_of(at(step, "quantization"))) + " quantization";
      o += "; report <code>" + esc(text_of(at(step, "report"))) + "</code></li>";
    }
    o += "</ul>";
  }
  return section("model", "1. Model identity", o);
}

std::string use_section(const json& r) {
  return section("use", "2. Intended use and limitations",
                 facts(row("Intended use", value_html(at(r, "intended_use"))) + row("Limitations", value_html(at(r, "limitations")))));
}

std::string training_section(const json& r) {
  const json& t = at(r, "training_data");
  std::string o;
  const json& missing = at(t, "missing");
  if (at(t, "complete").is_boolean() && at(t, "complete").get<bool>()) {
    o += "<p class=\"cr-ok\">The model card states every training-data field the hub checks.</p>";
  } else {
    o += "<div class=\"cr-gaps\"><p><strong>Missing from the model card</strong> (field paths in README.md's front matter):</p><ul>";
    if (missing.is_array()) {
      for (auto& f : missing) o += "<li><code>" + esc(text_of(f)) + "</code></li>";
    }
    o += "</ul>";
    if (at(t, "card").is_null()) o += "<p>The revision has no README.md.</p>";
    if (at(t, "card_error").is_string()) o += "<p>README.md could not be read: " + esc(text_of(at(t, "card_error"))) + "</p>";
    o += "</div>";
  }
  o += facts(row("Datasets", value_html(at(t, "datasets"))) + row("Cleaning methods", value_html(at(t, "cleaning_methods"))) +
             row("Personal data", value_html(at(t, "personal_data"))) +
             row("Copyright opt-outs respected", value_html(at(t, "copyright_opt_outs_respected"))));
  o += "<h3>Sources</h3>";
  const json& sources = at(t, "sources");
  if (!sources.is_array() || sources.empty()) {
    o += "<p class=\"cr-missing\">No training-data sources listed.</p>";
  } else {
    o += "<table class=\"cr-table\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Kind</th><th scope=\"col\">Link or description</th>"
         "<th scope=\"col\">License</th><th scope=\"col\">Time span</th></tr></thead><tbody>";
    for (auto& s : sources) {
      json source = s.is_object() ? s : json{{"name", s}};
      const json& where = at(source, "link").is_null() ? at(source, "description") : at(source, "link");
      o += "<tr><td>" + value_html(at(source, "name")) + "</td><td>" + value_html(at(source, "kind")) + "</td><td class=\"cr-wrap\">" +
           value_html(where) + "</td><td>" + value_html(at(source, "license")) + "</td><td>" + value_html(at(source, "time_span")) +
           "</td></tr>";
    }
    o += "</tbody></table>";
  }
  return section("training-data", "3. Training data", o);
}

std::string evaluation_section(const json& r) {
  const json& e = at(r, "evaluation");
  const json& results = at(e, "results");
  std::string o;
  if (!results.is_array() || results.empty()) {
    o += "<p class=\"cr-missing\">No compression report (*.report.json) or evaluation result (*eval.json) in this revision.</p>";
  } else {
    for (auto& x : results) {
      if (text_of(at(x, "kind")) == "compression") {
        const json& b = at(x, "before");
        const json& a = at(x, "after");
        o += "<h3>Compression report <code>" + esc(text_of(at(x, "source"))) + "</code></h3>";
        if (at(x, "evaluation_text").is_string()) o += "<p>Evaluated on <code>" + esc(text_of(at(x, "evaluation_text"))) + "</code>.</p>";
        o += "<table class=\"cr-table\"><thead><tr><th scope=\"col\">Figure</th><th scope=\"col\" class=\"num\">Original</th>"
             "<th scope=\"col\" class=\"num\">Compressed</th></tr></thead><tbody>";
        o += "<tr><td>Perplexity</td><td class=\"num\">" + number(at(b, "perplexity"), "%.4f") + "</td><td class=\"num\">" +
             number(at(a, "perplexity"), "%.4f") + "</td></tr>";
        o += "<tr><td>Next-token top-1 accuracy</td><td class=\"num\">" + percent(at(b, "top1_accuracy")) + "</td><td class=\"num\">" +
             percent(at(a, "top1_accuracy")) + "</td></tr>";
        o += "<tr><td>Top-1 agreement with the original</td><td class=\"num\">100.00%</td><td class=\"num\">" +
             percent(at(a, "top1_agreement")) + "</td></tr>";
        o += "<tr><td>KL divergence from the original (nats)</td><td class=\"num\">0</td><td class=\"num\">" +
             number(at(a, "kl_divergence"), "%.6f") + "</td></tr>";
        o += "<tr><td>Parameters</td><td class=\"num\">" + count(at(b, "parameters")) + "</td><td class=\"num\">" +
             count(at(a, "parameters")) + "</td></tr>";
        o += "<tr><td>File size</td><td class=\"num\">" + bytes(at(b, "file_size")) + "</td><td class=\"num\">" +
             bytes(at(a, "file_size")) + "</td></tr>";
        o += "</tbody></table>";
      } else {
        o += "<h3>Evaluation result <code>" + esc(text_of(at(x, "source"))) + "</code></h3>";
        o += facts(row("Perplexity", number(at(x, "perplexity"), "%.4f")) + row("Next-token top-1 accuracy", percent(at(x, "top1_accuracy"))) +
                   row("Scored tokens", count(at(x, "scored_tokens"))) + row("Context length", count(at(x, "ctx"))));
      }
    }
  }
  const json& unreadable = at(e, "unreadable");
  if (unreadable.is_array() && !unreadable.empty()) {
    o += "<p class=\"cr-missing\">Not read:</p><ul>";
    for (auto& u : unreadable) o += "<li><code>" + esc(text_of(at(u, "source"))) + "</code>: " + esc(text_of(at(u, "error"))) + "</li>";
    o += "</ul>";
  }
  return section("evaluation", "4. Evaluation", o);
}

std::string labeling_section(const json& r) {
  const json& l = at(r, "labeling");
  bool marked = at(l, "marked_outputs").is_boolean() && at(l, "marked_outputs").get<bool>();
  std::string rows = row("Outputs marked through the hub", marked ? "yes" : "<span class=\"cr-missing\">no marks issued</span>") +
                     row("Marks issued", count(at(l, "marks_issued")));
  if (marked) rows += row("First / last", esc(text_of(at(l, "first"))) + " / " + esc(text_of(at(l, "last"))));
  rows += row("Method (model card, labeling)", value_html(at(l, "method")));
  std::string o = facts(rows);
  const json& by = at(l, "by_user");
  if (by.is_object() && !by.empty()) {
    o += "<table class=\"cr-table\"><thead><tr><th scope=\"col\">Issued by</th><th scope=\"col\" class=\"num\">Marks</th></tr></thead><tbody>";
    for (auto& [who, n] : by.items()) o += "<tr><td>" + esc(who) + "</td><td class=\"num\">" + count(n) + "</td></tr>";
    o += "</tbody></table>";
  }
  return section("labeling", "5. Labeling of outputs", o);
}

std::string access_section(const json& r) {
  const json& a = at(r, "access");
  bool required = at(at(a, "policy"), "require_card_complete").is_boolean() && at(at(a, "policy"), "require_card_complete").get<bool>();
  std::string o = facts(row("Visibility", esc(text_of(at(a, "visibility")))) +
                        row("Complete card required to be internal", required ? "yes (organization policy)" : "no"));
  o += "<table class=\"cr-table\"><thead><tr><th scope=\"col\">Who</th><th scope=\"col\">Role</th><th scope=\"col\">Through</th></tr></thead><tbody>";
  const json& holders = at(a, "holders");
  if (holders.is_array()) {
    for (auto& h : holders) {
      o += "<tr><td>" + esc(text_of(at(h, "subject"))) + "</td><td>" + esc(text_of(at(h, "role"))) + "</td><td>" +
           esc(text_of(at(h, "via"))) + "</td></tr>";
    }
  }
  o += "</tbody></table>";
  return section("access", "6. Access", o);
}

std::string events_table(const json& list, const char* detail, const std::string& detail_label) {
  if (!list.is_array() || list.empty()) return "<p class=\"muted\">None recorded.</p>";
  std::string o = "<table class=\"cr-table\"><thead><tr><th scope=\"col\">When</th><th scope=\"col\">By</th><th scope=\"col\">" +
                  esc(detail_label) + "</th></tr></thead><tbody>";
  for (auto& ev : list) {
    o += "<tr><td>" + esc(text_of(at(ev, "time"))) + "</td><td>" + esc(text_of(at(ev, "by"))) + "</td><td>" +
         esc(text_of(at(ev, detail))) + "</td></tr>";
  }
  return o + "</tbody></table>";
}

std::string counts_table(const json& counts, const std::string& key_label) {
  if (!counts.is_object() || counts.empty()) return "";
  std::string o = "<table class=\"cr-table cr-narrow\"><thead><tr><th scope=\"col\">" + esc(key_label) +
                  "</th><th scope=\"col\" class=\"num\">Downloads</th></tr></thead><tbody>";
  for (auto& [k, n] : counts.items()) o += "<tr><td>" + esc(k) + "</td><td class=\"num\">" + count(n) + "</td></tr>";
  return o + "</tbody></table>";
}

std::string audit_section(const json& r) {
  const json& a = at(r, "audit");
  std::string o = facts(row("Entries for this repository", count(at(a, "entries")) + " (" + esc(text_of(at(a, "first"))) + " to " +
                                                                esc(text_of(at(a, "last"))) + ")") +
                        row("Downloads", count(at(a, "downloads"))) + row("Files viewed in the web interface", count(at(a, "page_views"))) +
                        row("Uploads (commits)", count(at(a, "uploads"))) + row("Refused requests", count(at(a, "denied"))));
  o += counts_table(at(a, "downloads_by_user"), "Downloaded by");
  o += counts_table(at(a, "downloads_by_month"), "Month");
  o += "<h3>Deployments</h3>" + events_table(at(a, "deploys"), "target", "Target");
  o += "<h3>Fine-tuning</h3>" + events_table(at(a, "finetunes"), "base_model", "Base model");
  return section("audit", "7. Audit summary", o);
}

std::string complaints_section(const json& r) {
  const json& c = at(r, "complaints");
  const json& median = at(c, "median_hours_to_resolve");
  std::string overdue = count(at(c, "overdue"));
  if (at(c, "overdue").is_number_integer() && at(c, "overdue").get<int64_t>() > 0) overdue = "<strong class=\"cr-bad\">" + overdue + "</strong>";
  std::string o = facts(row("Received", count(at(c, "received"))) + row("Open", count(at(c, "open"))) +
                        row("Open past their 72-hour deadline", overdue) + row("Acknowledged, still open", count(at(c, "acknowledged"))) +
                        row("Resolved", count(at(c, "resolved"))) + row("Rejected", count(at(c, "rejected"))) +
                        row("Median time to resolve", median.is_number() ? number(median, "%.1f") + " hours" : "–"));
  const json& ids = at(c, "overdue_ids");
  if (ids.is_array() && !ids.empty()) {
    o += "<p>Overdue complaints:</p><ul>";
    for (auto& id : ids) o += "<li><code>" + esc(text_of(id)) + "</code></li>";
    o += "</ul>";
  }
  return section("complaints", "8. Complaints", o);
}

std::string chain_section(const json& r) {
  const json& h = at(r, "audit_chain");
  bool ok = at(h, "verified").is_boolean() && at(h, "verified").get<bool>();
  std::string o = facts(row("Verified", ok ? "<span class=\"cr-ok\">yes</span>" : "<strong class=\"cr-bad\">no</strong>") +
                        row("Result", esc(text_of(at(h, "message")))) + row("Head entry", count(at(h, "head_seq"))) +
                        row("Head MAC", "<code class=\"cr-hash\">" + esc(text_of(at(h, "head_mac"))) + "</code>"));
  o += "<p>Every figure above was computed at " + esc(text_of(at(r, "generated_at"))) +
       " from the catalog, the revision's files and the audit trail up to entry " + count(at(h, "head_seq")) +
       ". To check it later, verify the trail (<code>lightvault audit verify</code>): its entry " + count(at(h, "head_seq")) +
       " must still carry this MAC.</p>";
  return section("chain", "9. Audit chain", o);
}

}  // namespace

std::string compliance_sections(const json& r) {
  const json& m = at(r, "model");
  std::string o = "<article class=\"cr\"><header class=\"cr-head\"><p class=\"cr-kicker\">Compliance report</p><h1>" +
                  esc(text_of(at(m, "repo"))) + "</h1><p>Generated " + esc(text_of(at(r, "generated_at"))) + " · commit <code>" +
                  esc(text_of(at(m, "commit"))) + "</code> · audit chain entry " + count(at(at(r, "audit_chain"), "head_seq")) + "</p></header>";
  o += model_section(r) + use_section(r) + training_section(r) + evaluation_section(r) + labeling_section(r) + access_section(r) +
       audit_section(r) + complaints_section(r) + chain_section(r);
  return o + "</article>";
}

std::string compliance_document(const json& r) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, "
         "initial-scale=1\"><title>Compliance report · " +
         esc(text_of(at(at(r, "model"), "repo"))) + "</title><style>\n" + compliance_css() + "</style></head><body class=\"cr-doc\">" +
         compliance_sections(r) + "</body></html>\n";
}

const std::string& compliance_css() {
  static const std::string css = R"CSS(
.cr { max-width: 52rem; margin: 0 auto; color: #1b1f24; font-family: system-ui, "DejaVu Sans", sans-serif; line-height: 1.45; }
.cr-doc { margin: 2rem 1.25rem; background: #fff; }
.cr-head { border-bottom: 3px solid #1b1f24; padding-bottom: .75rem; margin-bottom: 1.5rem; }
.cr-head h1 { font-size: 1.7rem; margin: 0 0 .25rem; }
.cr-head p { margin: 0; color: #57606a; }
.cr-kicker { text-transform: uppercase; letter-spacing: .08em; font-size: .8rem; font-weight: 700; }
.cr-section { margin: 0 0 2rem; }
.cr-section h2 { font-size: 1.2rem; border-bottom: 1px solid #d8dee4; padding-bottom: .3rem; margin: 0 0 .75rem; }
.cr-section h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
.cr table { border-collapse: collapse; width: 100%; margin: .25rem 0 .75rem; font-size: .92rem; }
.cr th, .cr td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid #e4e8ec; }
.cr thead th { background: #f6f8fa; border-bottom: 1px solid #c9d1d9; }
.cr-facts th { width: 30%; font-weight: 600; }
.cr-narrow { max-width: 24rem; }
.cr .num { text-align: right; font-variant-numeric: tabular-nums; }
.cr code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85em; }
.cr-hash, .cr-wrap { word-break: break-all; }
.cr ul { margin: .25rem 0 .5rem; padding-left: 1.25rem; }
.cr-pairs { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; }
.cr-pairs dt { font-weight: 600; }
.cr-pairs dd { margin: 0; }
.cr-missing { color: #7d4e00; background: #fff8c5; padding: 0 .25rem; border-radius: 3px; }
.cr-gaps { border: 1px solid #d4a72c; background: #fff8c5; border-radius: 6px; padding: .5rem .9rem; margin-bottom: .75rem; }
.cr-gaps p { margin: .25rem 0; }
.cr-ok { color: #116329; }
.cr-bad { color: #a40e26; }
@media print {
  @page { margin: 18mm 16mm; }
  .cr-doc { margin: 0; }
  .cr { max-width: none; font-size: 10.5pt; }
  .cr-section { break-before: page; }
  .cr-head + .cr-section { break-before: auto; }
  .cr table, .cr-gaps { break-inside: avoid; }
  .cr h2, .cr h3 { break-after: avoid; }
}
)CSS";
  return css;
}

}  // namespace lv::hub::web
