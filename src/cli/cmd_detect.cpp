// lightvault detect FILE: is FILE marked as AI-generated? One command for every kind of
// content; the file's first bytes choose the detector. Text: the keyed watermark in the
// choice of tokens (--model, --watermark-key). Images: not yet (issue 10 adds their detector
// in detect_image below).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/model_args.h"
#include "cli/watermark_args.h"
#include "lightvault/mark/media_kind.h"
#include "lightvault/mark/text_watermark.h"
#include "lightvault/util/text.h"

namespace lv::cli {
namespace {

struct Args {
  std::string input;
  ModelArgs model;  // path from --model: only text needs a model
  WatermarkArgs watermark;
  double z_threshold = 4.0;
  bool json = false;
};

// The text watermark's report, as {"text_watermark": {...}}.
Result<nlohmann::ordered_json> detect_text(const Args& args, const std::string& text) {
  if (args.model.path.empty()) return make_error(args.input, "detecting a text watermark needs --model");
  if (args.watermark.key_path.empty()) return make_error(args.input, "detecting a text watermark needs --watermark-key");
  LV_ASSIGN_OR_RETURN(std::string key, args.watermark.load_key());
  LV_ASSIGN_OR_RETURN(Model model, args.model.load());
  if (model.tokenizer.empty()) return make_error(args.model.path, "has no tokenizer; pass one with --tokenizer");
  LV_ASSIGN_OR_RETURN(std::vector<int> tokens, model.tokenizer.encode(text, false, args.input));
  mark::GreenList green(key, args.watermark.params);
  mark::TextDetection d = mark::detect_text_watermark(green, tokens, args.watermark.params.gamma, args.z_threshold);
  return nlohmann::ordered_json{
      {"text_watermark", {{"z", d.z}, {"p_value", d.p_value}, {"tokens", d.tokens}, {"green", d.green}, {"found", d.found}}}};
}

void print_text(const nlohmann::ordered_json& report) {
  const auto& t = report["text_watermark"];
  std::printf("text watermark: %s (z = %.2f, p = %.3g, %lld of %lld scored tokens green)\n",
              t["found"].get<bool>() ? "found" : "not found", t["z"].get<double>(), t["p_value"].get<double>(),
              t["green"].get<long long>(), t["tokens"].get<long long>());
}

CommandRun setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("input", args->input, "file to check (text)")->required();
  sub.add_option("--model", args->model.path, "model whose tokenizer generated the text");
  sub.add_option("--tokenizer", args->model.tokenizer, "tokenizer file, for formats that keep it apart (llama2.c)");
  args->watermark.add_to(sub, false);
  sub.add_option("--z-threshold", args->z_threshold, "z-score from which a watermark counts as found")->capture_default_str();
  sub.add_flag("--json", args->json, "print JSON");
  return [args] {
    auto bytes = read_file(args->input);
    if (!bytes.ok()) return fail(bytes.error());
    const mark::MediaKind kind = mark::sniff_media(*bytes);
    Result<nlohmann::ordered_json> report = Error{};
    switch (kind) {
      case mark::MediaKind::Text:
        report = detect_text(*args, *bytes);
        break;
      case mark::MediaKind::Png:
      case mark::MediaKind::Jpeg:  // issue 10: detect_image(*args, *bytes) goes here
        return fail(make_error(args->input, std::string(mark::media_kind_name(kind)) + ": image detection is not built yet"));
      case mark::MediaKind::Empty:
        return fail(make_error(args->input, "empty file"));
      case mark::MediaKind::Binary:
        return fail(make_error(args->input, "binary data, neither text nor an image"));
    }
    if (!report.ok()) return fail(report.error());
    if (args->json) {
      std::printf("%s\n", report->dump(2).c_str());
    } else {
      print_text(*report);
    }
    return 0;
  };
}

CommandRegistrar registrar("detect", "check a file for AI-generation marks (text: the keyed watermark)", setup);

}  // namespace
}  // namespace lv::cli
