#include "lightvault/scan/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace lv::scan {

const char* const kDecisionRule =
    "Within each label, candidate groups come from spectral clustering of the label's kNN graph "
    "(normalized Laplacian, eigengap, k-means++; a cluster must be cut off, conductance at most 0.05) and "
    "from k-means partitions of the label into 2, 3 and 4 parts. Each group of at least 5 rows gets the "
    "shift check, exclusionary reclassification by nearest neighbours: its shift is the median over its "
    "members of (row - mean of its 10 nearest rows of other labels); a member's shift ratio is the mean "
    "distance from (row - shift) to its 10 nearest rows of other labels over the mean distance from the "
    "row to its 10 nearest rows of its own label. A poisoned group is other classes plus one trigger: "
    "stripped of the shift they share, its members land among other labels (ratio under 1). A natural "
    "style of a class has no shared shift that turns it into other classes (ratio 1.1 or more for "
    "cut-off clusters and 2-means halves of clean digits). A group is flagged when its median ratio is "
    "under --ratio 1.0 (0.8 for a 3- or 4-means group, small groups overfit their own shift), or when it is one half of "
    "the label's 2-means split with a ratio under 0.7 times the other half's and either under 1.15 or cut "
    "off from the other half (conductance at most 0.05; poison can be half of its label). The flagged "
    "group's shift is then tried on every row of the label, and rows "
    "whose ratio falls under --ratio are flagged too. Without labels, only a cluster under "
    "--small-cluster of the rows with conductance under 0.1 is flagged. Spectral signatures and "
    "activation clustering are listed beside each flag as evidence; on their own (--method "
    "signature|activation) they flag a share of every label, poisoned or not. Text input also has each "
    "sentence carried by at least 5 samples (and 0.5% of them) checked against the model: a sentence is "
    "flagged when it is carried e^10 times as often as the model expects (sentences in the data x "
    "e^-surprisal, the median over its carriers) and its carriers are otherwise unrelated (under half of "
    "each one's other sentences shared with another carrier); flagged with it are the carriers where it "
    "is itself surprising (carried e^5 times as often as expected at that sample's own surprisal).";

namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fixed2(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  return buffer;
}

std::string colour(int i) {
  static const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                         "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"};
  return kPalette[static_cast<size_t>(i) % (sizeof kPalette / sizeof kPalette[0])];
}

// One scatter panel of the embedding, at most 20,000 points drawn (every m-th row, flagged
// rows always).
std::string scatter(const ScanReport& r, const std::vector<int>& colour_of, const std::string& title) {
  constexpr double kSize = 420, kPad = 20;
  float min_x = 0, max_x = 0, min_y = 0, max_y = 0;
  for (int64_t i = 0; i < r.n; ++i) {
    min_x = std::min(min_x, r.embedding[i * 2]);
    max_x = std::max(max_x, r.embedding[i * 2]);
    min_y = std::min(min_y, r.embedding[i * 2 + 1]);
    max_y = std::max(max_y, r.embedding[i * 2 + 1]);
  }
  const double sx = (kSize - 2 * kPad) / std::max(1e-12f, max_x - min_x);
  const double sy = (kSize - 2 * kPad) / std::max(1e-12f, max_y - min_y);
  std::vector<char> is_flagged(static_cast<size_t>(r.n), 0);
  for (const auto& f : r.flagged) is_flagged[f.index] = 1;
  const int64_t step = std::max<int64_t>(1, r.n / 20000);
  std::ostringstream svg;
  svg << "<figure><figcaption>" << escape(title) << "</figcaption><svg xmlns='http://www.w3.org/2000/svg' width='" << kSize
      << "' height='" << kSize << "' viewBox='0 0 " << kSize << ' ' << kSize << "'><rect width='100%' height='100%' fill='#fff' stroke='#ccc'/>";
  char buffer[160];
  for (int64_t i = 0; i < r.n; ++i) {
    if (i % step != 0 && !is_flagged[i]) continue;
    const double x = kPad + (r.embedding[i * 2] - min_x) * sx;
    const double y = kSize - kPad - (r.embedding[i * 2 + 1] - min_y) * sy;
    std::snprintf(buffer, sizeof buffer, "<circle cx='%.1f' cy='%.1f' r='2' fill='%s'/>", x, y, colour(colour_of[i]).c_str());
    svg << buffer;
  }
  for (const auto& f : r.flagged) {
    const double x = kPad + (r.embedding[f.index * 2] - min_x) * sx;
    const double y = kSize - kPad - (r.embedding[f.index * 2 + 1] - min_y) * sy;
    std::snprintf(buffer, sizeof buffer, "<circle cx='%.1f' cy='%.1f' r='4.5' fill='none' stroke='#000' stroke-width='1'/>", x, y);
    svg << buffer;
  }
  svg << "</svg></figure>";
  return svg.str();
}

std::string spectrum(const std::vector<double>& values, int chosen) {
  constexpr double kWidth = 420, kHeight = 220, kPad = 30;
  std::ostringstream svg;
  svg << "<figure><figcaption>Smallest eigenvalues of the normalized Laplacian (the chosen k is the last filled bar "
         "before the largest gap)</figcaption><svg xmlns='http://www.w3.org/2000/svg' width='"
      << kWidth << "' height='" << kHeight << "'><rect width='100%' height='100%' fill='#fff' stroke='#ccc'/>";
  const double top = std::max(1e-9, values.empty() ? 1.0 : *std::max_element(values.begin(), values.end()));
  const double bar = (kWidth - 2 * kPad) / std::max<size_t>(1, values.size());
  char buffer[200];
  for (size_t i = 0; i < values.size(); ++i) {
    const double h = (kHeight - 2 * kPad) * values[i] / top;
    std::snprintf(buffer, sizeof buffer, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>", kPad + i * bar,
                  kHeight - kPad - h, bar * 0.8, h, static_cast<int>(i) < chosen ? "#1f77b4" : "#aec7e8");
    svg << buffer;
    std::snprintf(buffer, sizeof buffer, "<text x='%.1f' y='%.1f' font-size='10'>%.3f</text>", kPad + i * bar, kHeight - kPad - h - 3,
                  values[i]);
    svg << buffer;
  }
  svg << "</svg></figure>";
  return svg.str();
}

}  // namespace

std::string report_table(const ScanReport& r) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%lld rows x %d features, method %s, %d clusters over all rows (eigengap)\n",
                static_cast<long long>(r.n), r.dim, r.method.c_str(), r.global_clusters);
  out << line;
  std::snprintf(line, sizeof line, "%-12s %-9s %4s %8s %7s %11s %8s  %s\n", "scope", "source", "id", "size", "share",
                "conductance", "shift", "verdict");
  out << line;
  for (const auto& c : r.clusters) {
    char ratio[16] = "-";
    if (c.ratio >= 0) std::snprintf(ratio, sizeof ratio, "%.2f", c.ratio);
    std::snprintf(line, sizeof line, "%-12s %-9s %4d %8lld %6.1f%% %11.3f %8s  ", c.scope.substr(0, 12).c_str(),
                  c.source.substr(0, 9).c_str(), c.id, static_cast<long long>(c.size), 100 * c.share, c.conductance, ratio);
    out << line << (c.flagged ? "FLAGGED: " + c.why : (c.candidate ? "measured, kept" : "")) << '\n';
  }
  if (!r.repeated_sentences.empty()) {
    out << "repeated sentences: carriers, surprisal (nats), excess ln(carriers/expected), other sentences shared\n";
    for (size_t i = 0; i < r.repeated_sentences.size() && i < 10; ++i) {
      const RepeatedSentence& s = r.repeated_sentences[i];
      std::snprintf(line, sizeof line, "%8zu %9.1f %8.1f %6.2f  %s\"%.200s\"\n", s.samples.size(), s.surprisal, s.excess,
                    s.rest_shared, s.flagged ? "FLAGGED: " : "", s.text.c_str());
      out << line;
    }
  }
  std::snprintf(line, sizeof line, "flagged %zu of %lld rows (%.2f%%)", r.flagged.size(), static_cast<long long>(r.n),
                100.0 * static_cast<double>(r.flagged.size()) / static_cast<double>(std::max<int64_t>(1, r.n)));
  out << line;
  if (!r.suspicious_labels.empty()) {
    out << "; suspicious labels:";
    for (const auto& l : r.suspicious_labels) out << ' ' << l;
  }
  out << '\n';
  return out.str();
}

nlohmann::json report_json(const ScanReport& r) {
  nlohmann::json flagged = nlohmann::json::array();
  for (const auto& f : r.flagged) flagged.push_back({{"index", f.index}, {"score", f.score}, {"reasons", f.reasons}});
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& c : r.clusters) {
    nlohmann::json j = {{"scope", c.scope},         {"source", c.source},   {"id", c.id},   {"size", c.size},
                        {"share", c.share},         {"conductance", c.conductance},
                        {"candidate", c.candidate}, {"flagged", c.flagged}};
    if (c.ratio >= 0) j["shift_ratio"] = c.ratio;
    if (c.flagged) j["why"] = c.why;
    clusters.push_back(j);
  }
  nlohmann::json repeated = nlohmann::json::array();
  for (const auto& s : r.repeated_sentences) {
    nlohmann::json j = {{"text", s.text},         {"carriers", s.samples.size()}, {"surprisal", s.surprisal},
                        {"expected", s.expected}, {"excess", s.excess},           {"rest_shared", s.rest_shared},
                        {"flagged", s.flagged}};
    if (s.flagged) j["samples"] = s.flagged_samples;
    repeated.push_back(j);
  }
  nlohmann::json out = {{"n", r.n},
                        {"flagged", flagged},
                        {"clusters", clusters},
                        {"suspicious_labels", r.suspicious_labels},
                        {"method", r.method},
                        {"rule", kDecisionRule},
                        {"eigenvalues", r.eigenvalues}};
  if (!r.repeated_sentences.empty()) out["repeated_sentences"] = repeated;
  return out;
}

std::string report_html(const ScanReport& r, const std::string& source) {
  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset='utf-8'><title>lightvault scan: " << escape(source)
       << "</title><style>body{font-family:sans-serif;margin:2em;max-width:1000px}figure{display:inline-block;margin:0 1em 1em 0}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}.f{background:#fdd}</style>"
          "</head><body><h1>Scan of "
       << escape(source) << "</h1><p>" << r.n << " rows, " << r.dim << " features; " << r.flagged.size()
       << " flagged. Method: " << escape(r.method) << ".</p><p><b>Rule.</b> " << escape(kDecisionRule) << "</p>";
  html << scatter(r, r.assignment, "Spectral embedding (eigenvectors 2 and 3), coloured by cluster; flagged rows ringed");
  if (!r.labels.empty()) html << scatter(r, r.labels, "The same, coloured by label");
  html << spectrum(r.eigenvalues, r.global_clusters);
  html << "<h2>Clusters</h2><table><tr><th>scope</th><th>source</th><th>id</th><th>size</th><th>share</th><th>conductance</th><th>shift ratio</th><th>verdict</th></tr>";
  char cell[64];
  for (const auto& c : r.clusters) {
    html << "<tr" << (c.flagged ? " class='f'" : "") << "><td>" << escape(c.scope) << "</td><td>" << escape(c.source) << "</td><td>" << c.id << "</td><td>" << c.size << "</td>";
    std::snprintf(cell, sizeof cell, "<td>%.1f%%</td><td>%.3f</td>", 100 * c.share, c.conductance);
    html << cell << "<td>" << (c.ratio < 0 ? std::string("-") : fixed2(c.ratio))
         << "</td><td>" << escape(c.flagged ? "flagged: " + c.why : (c.candidate ? "measured, kept" : "")) << "</td></tr>";
  }
  html << "</table>";
  if (!r.suspicious_labels.empty()) {
    html << "<p>Suspicious labels:";
    for (const auto& l : r.suspicious_labels) html << ' ' << escape(l);
    html << "</p>";
  }
  if (!r.repeated_sentences.empty()) {
    html << "<h2>Repeated sentences</h2><table><tr><th>carriers</th><th>surprisal (nats)</th><th>excess (nats)</th>"
            "<th>other sentences shared</th><th>sentence</th></tr>";
    for (const auto& s : r.repeated_sentences) {
      std::snprintf(cell, sizeof cell, "<td>%zu</td><td>%.1f</td><td>%.1f</td><td>%.2f</td>", s.samples.size(), s.surprisal,
                    s.excess, s.rest_shared);
      html << "<tr" << (s.flagged ? " class='f'" : "") << ">" << cell << "<td>" << escape(s.text) << "</td></tr>";
    }
    html << "</table>";
  }
  html << "<h2>Flagged rows</h2><table><tr><th>row</th><th>score</th><th>reasons</th></tr>";
  for (size_t i = 0; i < r.flagged.size() && i < 500; ++i) {
    const auto& f = r.flagged[i];
    std::string reasons;
    for (const auto& reason : f.reasons) reasons += (reasons.empty() ? "" : "; ") + reason;
    std::snprintf(cell, sizeof cell, "%.3f", f.score);
    html << "<tr><td>" << f.index << "</td><td>" << cell << "</td><td>" << escape(reasons) << "</td></tr>";
  }
  if (r.flagged.size() > 500) html << "<tr><td colspan='3'>... " << r.flagged.size() - 500 << " more in the JSON report</td></tr>";
  html << "</table></body></html>\n";
  return html.str();
}

}  // namespace lv::scan
