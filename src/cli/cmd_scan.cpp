// lightvault scan DATA: look for poisoned samples (a small group that carries a trigger and a
// chosen label) in a training set; see src/lightvault/scan/scanner.h for the decision rule.
// Exit 0 when nothing is flagged, 1 when something is (0 with --no-fail), 2 on bad input.
// Data and labels may be files in a hub repository (hub://OWNER/NAME[@REV]/PATH): they are
// downloaded into a temporary folder first, and --attach commits the reports back into that
// repository under scans/ and records a dataset.scan event in the hub's audit trail.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>

#include "cli/command.h"
#include "cli/hub_args.h"
#include "cli/progress.h"
#include "lightvault/scan/dataset.h"
#include "lightvault/scan/report.h"
#include "lightvault/scan/scanner.h"
#include "lightvault/scan/text_embedding.h"
#include "lightvault/util/text.h"

namespace lv::cli {
namespace {

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(path, "cannot write");
  out << text;
  out.close();
  if (!out) return make_error(path, "write failed");
  return Status::Ok();
}

// A folder of its own for downloaded inputs and unrequested reports, removed on return.
class TempFolder {
 public:
  TempFolder() {
    std::random_device seed;
    path_ = std::filesystem::temp_directory_path() /
            ("lightvault-scan-" + std::to_string(::getpid()) + "-" + std::to_string(seed()));
    std::filesystem::create_directories(path_);
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Where the data came from when it came from a hub, and the client that fetched it.
struct HubSource {
  std::unique_ptr<hub::HubClient> client;
  hub::HubFileRef data;
  std::string data_commit;
};

// The local copy of `name` (returned as is unless it is a hub:// URI).
Result<std::string> fetch_input(const std::string& name, const HubArgs& hub_args, HubSource& source,
                                const TempFolder& temp, const std::string& local_name) {
  if (!hub::is_hub_uri(name)) return name;
  LV_ASSIGN_OR_RETURN(hub::HubFileRef ref, hub::parse_hub_uri(name));
  if (!source.client) {
    LV_ASSIGN_OR_RETURN(source.client, hub_args.connect());
  }
  const std::string local = temp.file(local_name + "-" + std::filesystem::path(ref.path).filename().string());
  auto commit = hub::download_hub_file(*source.client, ref, local, hub_args.progress_bar());
  if (!commit.ok()) return make_error(name, commit.error().message);
  if (source.data.repo.empty()) {
    source.data = ref;
    source.data_commit = *commit;
  }
  return local;
}

std::string utc_stamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

// Commits the two reports to scans/ in the data's repository and records the scan in the
// hub's audit trail; returns the repository paths written.
Result<std::vector<std::string>> attach_reports(HubSource& source, const std::string& uri, const scan::ScanReport& report,
                                                const std::string& json_file, const std::string& html_file,
                                                const HubArgs& hub_args) {
  const std::string stem = "scans/" + std::filesystem::path(source.data.path).stem().string() + "-" + utc_stamp();
  const std::vector<hub::FileToCommit> files = {{stem + ".json", json_file}, {stem + ".html", html_file}};
  const std::string message = "scan of " + source.data.path + ": " + std::to_string(report.flagged.size()) + " of " +
                              std::to_string(report.n) + " rows flagged";
  LV_ASSIGN_OR_RETURN(std::string commit, hub::commit_files(*source.client, source.data.repo, files, message,
                                                            hub_args.progress_bar()));
  nlohmann::json details{{"input", uri},          {"input_commit", source.data_commit},
                         {"rows", report.n},      {"flagged", report.flagged.size()},
                         {"reports", {files[0].repo_path, files[1].repo_path}}, {"commit", commit}};
  LV_RETURN_IF_ERROR(source.client->post("/api/lv/models/" + source.data.repo + "/events",
                                         {{"action", "dataset.scan"}, {"details", details}}));
  return std::vector<std::string>{files[0].repo_path, files[1].repo_path};
}

std::string detect_format(const std::string& path) {
  if (ends_with(path, ".npy")) return "npy";
  if (ends_with(path, ".jsonl")) return "jsonl";
  if (ends_with(path, ".txt")) return "text";
  return "csv";
}

CommandRun setup(CLI::App& sub) {
  struct Args {
    std::string input, format, labels, json, html, assignments, method = "all";
    std::optional<int> label_column;
    std::string model, tokenizer, pool = "mean";
    int layer = -1;
    bool no_fail = false, attach = false;
    HubArgs hub;
    scan::ScanOptions options;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  sub.add_option("data", args->input, "CSV (header row), .npy (2-D float32/float64), or text (--format text|jsonl); a file in a hub repository as hub://OWNER/NAME[@REV]/PATH")->required();
  sub.add_option("--format", args->format, "csv, npy, text (samples separated by blank lines) or jsonl (a text field and an optional label); default by extension")
      ->check(CLI::IsMember({"csv", "npy", "text", "jsonl"}));
  sub.add_option("--label-column", args->label_column, "CSV column holding the label (negative counts from the end, -1 the last)");
  sub.add_option("--labels", args->labels, "file with one label per line, for .npy input");
  sub.add_option("--model", args->model, "model that embeds text input (GGUF, llama2.c .bin, safetensors)");
  sub.add_option("--tokenizer", args->tokenizer, "tokenizer file, for model formats that keep it apart");
  sub.add_option("--layer", args->layer, "layer whose hidden states are pooled over a sample's tokens (0-based; default the last)");
  sub.add_option("--pool", args->pool, "how a text sample's token states become one row: mean, max (coordinate-wise), or mean+max (both, 2 x dim columns)")->capture_default_str();
  sub.add_option("--method", args->method, "spectral, signature, activation, or all (the combined decision rule)")->capture_default_str();
  sub.add_option("--neighbors", o.neighbours, "k of the kNN graph")->capture_default_str();
  sub.add_option("--clusters", o.clusters, "number of clusters (default: by the eigengap)");
  sub.add_option("--max-clusters", o.max_clusters, "largest k the eigengap may choose")->capture_default_str();
  sub.add_option("--small-cluster", o.small_cluster, "share of the rows under which a cluster is a candidate")->capture_default_str();
  sub.add_option("--ratio", o.ratio, "a group is flagged when its members' median shift ratio is under this: distance from (row - the group's shared shift) to other labels over distance to the row's own label")->capture_default_str();
  sub.add_option("--max-conductance", o.max_conductance, "a spectral cluster of a label is a candidate only when its conductance in the label's graph is at most this")->capture_default_str();
  sub.add_option("--expected-poison", o.expected_poison, "Tran et al.'s eps for --method signature (flags the top 1.5 eps of each label)")->capture_default_str();
  sub.add_option("--seed", o.seed, "random seed (kNN trees, k-means++)")->capture_default_str();
  sub.add_option("--json", args->json, "write the report as JSON to FILE");
  sub.add_option("--html", args->html, "write the report as a self-contained HTML page to FILE");
  sub.add_option("--assignments", args->assignments, "write each row's cluster over the whole data set, one per line, to FILE");
  sub.add_flag("--no-fail", args->no_fail, "exit 0 even when rows are flagged");
  sub.add_flag("--attach", args->attach, "commit the JSON and HTML reports into the hub repository of a hub:// input, under scans/ (audited as dataset.scan)");
  args->hub.add_to(sub);
  return [args] {
    auto method = scan::parse_method(args->method);
    if (!method.ok()) return fail(method.error());
    args->options.method = *method;
    if (args->options.neighbours < 2) return fail(make_error("--neighbors", "must be at least 2"));
    if (args->options.max_clusters < 2) return fail(make_error("--max-clusters", "must be at least 2"));
    if (args->attach && !hub::is_hub_uri(args->input)) {
      return fail(make_error(args->input, "--attach needs the data as hub://OWNER/NAME/PATH, the repository the reports go to"));
    }
    TempFolder temp;
    HubSource source;
    auto input = fetch_input(args->input, args->hub, source, temp, "data");
    if (!input.ok()) return fail(input.error());
    const std::string format = args->format.empty() ? detect_format(*input) : args->format;
    Result<scan::Dataset> data = Error{};
    std::vector<scan::RepeatedSentence> repeated;
    if (format == "csv") {
      data = scan::read_csv(*input, args->label_column);
    } else if (format == "npy") {
      data = scan::read_npy(*input);
    } else {
      if (args->model.empty()) return fail(make_error(args->input, "--format " + format + " needs --model to embed the text"));
      scan::TextEmbeddingOptions embed;
      embed.model = args->model;
      embed.tokenizer = args->tokenizer;
      embed.layer = args->layer;
      auto pooling = scan::parse_pooling(args->pool);
      if (!pooling.ok()) return fail(pooling.error());
      embed.pooling = *pooling;
      embed.sentences = args->options.method == scan::Method::kAll;  // only the default rule reads them
      std::unique_ptr<ProgressBar> bar;
      embed.progress = [&](int64_t done, int64_t total) {
        if (!bar) bar = std::make_unique<ProgressBar>("embedding", total);
        bar->update(done);
      };
      auto text = scan::embed_text_file(*input, format == "jsonl" ? scan::TextFormat::kJsonl : scan::TextFormat::kBlankLineSeparated, embed);
      if (!text.ok()) return fail(text.error());
      data = std::move(text->data);
      if (embed.sentences) repeated = scan::find_repeated_sentences(text->sentences);
    }
    if (!data.ok()) return fail(data.error());
    if (!args->labels.empty()) {
      auto labels = fetch_input(args->labels, args->hub, source, temp, "labels");
      if (!labels.ok()) return fail(labels.error());
      Status labelled = scan::read_labels(*labels, *data);
      if (!labelled.ok()) return fail(labelled.error());
    }
    std::unique_ptr<ProgressBar> bar;
    std::string step;
    args->options.progress = [&](const std::string& name, int64_t done, int64_t total) {
      if (name != step) {
        bar = std::make_unique<ProgressBar>(name, total);
        step = name;
      }
      bar->update(done);
    };
    auto report = scan::run_scan(*data, args->options);
    bar.reset();
    if (!report.ok()) return fail(report.error());
    if (!repeated.empty()) scan::add_repeated_sentences(std::move(repeated), *report);
    std::fputs(scan::report_table(*report).c_str(), stdout);
    // With --attach, the reports are written even when no file was asked for.
    const std::string json_file = args->json.empty() && args->attach ? temp.file("report.json") : args->json;
    const std::string html_file = args->html.empty() && args->attach ? temp.file("report.html") : args->html;
    if (!json_file.empty()) {
      Status written = write_text(json_file, scan::report_json(*report).dump(1) + "\n");
      if (!written.ok()) return fail(written.error());
    }
    if (!html_file.empty()) {
      Status written = write_text(html_file, scan::report_html(*report, args->input));
      if (!written.ok()) return fail(written.error());
    }
    if (!args->assignments.empty()) {
      std::string lines;
      for (int c : report->assignment) lines += std::to_string(c) + "\n";
      Status written = write_text(args->assignments, lines);
      if (!written.ok()) return fail(written.error());
    }
    if (args->attach) {
      auto attached = attach_reports(source, args->input, *report, json_file, html_file, args->hub);
      if (!attached.ok()) return fail(attached.error());
      std::printf("attached to %s: %s, %s\n", source.data.repo.c_str(), (*attached)[0].c_str(), (*attached)[1].c_str());
    }
    return report->flagged.empty() || args->no_fail ? 0 : 1;
  };
}

CommandRegistrar registrar("scan", "look for poisoned samples in a training set (spectral clustering, spectral signatures, activation clustering)", setup);

}  // namespace
}  // namespace lv::cli
