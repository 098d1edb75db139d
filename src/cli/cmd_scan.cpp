// lightvault scan DATA: look for poisoned samples (a small group that carries a trigger and a
// chosen label) in a training set; see src/lightvault/scan/scanner.h for the decision rule.
// Exit 0 when nothing is flagged, 1 when something is (0 with --no-fail), 2 on bad input.
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include "cli/command.h"
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
    std::string model, tokenizer;
    int layer = -1;
    bool no_fail = false;
    scan::ScanOptions options;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  sub.add_option("data", args->input, "CSV (header row), .npy (2-D float32/float64), or text (--format text|jsonl)")->required();
  sub.add_option("--format", args->format, "csv, npy, text (samples separated by blank lines) or jsonl (a text field and an optional label); default by extension")
      ->check(CLI::IsMember({"csv", "npy", "text", "jsonl"}));
  sub.add_option("--label-column", args->label_column, "CSV column holding the label (negative counts from the end, -1 the last)");
  sub.add_option("--labels", args->labels, "file with one label per line, for .npy input");
  sub.add_option("--model", args->model, "model that embeds text input (GGUF, llama2.c .bin, safetensors)");
  sub.add_option("--tokenizer", args->tokenizer, "tokenizer file, for model formats that keep it apart");
  sub.add_option("--layer", args->layer, "layer whose hidden states are averaged over a sample's tokens (default the last)");
  sub.add_option("--method", args->method, "spectral, signature, activation, or all (the combined decision rule)")->capture_default_str();
  sub.add_option("--neighbors", o.neighbours, "k of the kNN graph")->capture_default_str();
  sub.add_option("--clusters", o.clusters, "number of clusters (default: by the eigengap)");
  sub.add_option("--max-clusters", o.max_clusters, "largest k the eigengap may choose")->capture_default_str();
  sub.add_option("--small-cluster", o.small_cluster, "share of the rows under which a cluster is a candidate")->capture_default_str();
  sub.add_option("--ratio", o.ratio, "a candidate cluster is flagged when its members' median distance to their own label (outside the cluster) over their distance to other labels exceeds this")->capture_default_str();
  sub.add_option("--max-conductance", o.max_conductance, "... and its conductance within its label is at most this")->capture_default_str();
  sub.add_option("--expected-poison", o.expected_poison, "Tran et al.'s eps for --method signature (flags the top 1.5 eps of each label)")->capture_default_str();
  sub.add_option("--seed", o.seed, "random seed (kNN trees, k-means++)")->capture_default_str();
  sub.add_option("--json", args->json, "write the report as JSON to FILE");
  sub.add_option("--html", args->html, "write the report as a self-contained HTML page to FILE");
  sub.add_option("--assignments", args->assignments, "write each row's cluster over the whole data set, one per line, to FILE");
  sub.add_flag("--no-fail", args->no_fail, "exit 0 even when rows are flagged");
  return [args] {
    auto method = scan::parse_method(args->method);
    if (!method.ok()) return fail(method.error());
    args->options.method = *method;
    if (args->options.neighbours < 2) return fail(make_error("--neighbors", "must be at least 2"));
    if (args->options.max_clusters < 2) return fail(make_error("--max-clusters", "must be at least 2"));
    const std::string format = args->format.empty() ? detect_format(args->input) : args->format;
    Result<scan::Dataset> data = Error{};
    if (format == "csv") {
      data = scan::read_csv(args->input, args->label_column);
    } else if (format == "npy") {
      data = scan::read_npy(args->input);
    } else {
      if (args->model.empty()) return fail(make_error(args->input, "--format " + format + " needs --model to embed the text"));
      scan::TextEmbeddingOptions embed;
      embed.model = args->model;
      embed.tokenizer = args->tokenizer;
      embed.layer = args->layer;
      std::unique_ptr<ProgressBar> bar;
      embed.progress = [&](int64_t done, int64_t total) {
        if (!bar) bar = std::make_unique<ProgressBar>("embedding", total);
        bar->update(done);
      };
      data = scan::embed_text_file(args->input, format == "jsonl" ? scan::TextFormat::kJsonl : scan::TextFormat::kBlankLineSeparated, embed);
    }
    if (!data.ok()) return fail(data.error());
    if (!args->labels.empty()) {
      Status labelled = scan::read_labels(args->labels, *data);
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
    std::fputs(scan::report_table(*report).c_str(), stdout);
    if (!args->json.empty()) {
      Status written = write_text(args->json, scan::report_json(*report).dump(1) + "\n");
      if (!written.ok()) return fail(written.error());
    }
    if (!args->html.empty()) {
      Status written = write_text(args->html, scan::report_html(*report, args->input));
      if (!written.ok()) return fail(written.error());
    }
    if (!args->assignments.empty()) {
      std::string lines;
      for (int c : report->assignment) lines += std::to_string(c) + "\n";
      Status written = write_text(args->assignments, lines);
      if (!written.ok()) return fail(written.error());
    }
    return report->flagged.empty() || args->no_fail ? 0 : 1;
  };
}

CommandRegistrar registrar("scan", "look for poisoned samples in a training set (spectral clustering, spectral signatures, activation clustering)", setup);

}  // namespace
}  // namespace lv::cli
