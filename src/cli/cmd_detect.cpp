// lightvault detect FILE: is FILE marked as AI-generated? One command for every kind of
// content; the file's first bytes choose the detector. Text: the keyed watermark in the
// choice of tokens (--model, --watermark-key). Images: the invisible watermark (--key), the
// GB 45438 AIGC metadata and C2PA.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/model_args.h"
#include "cli/watermark_args.h"
#include "lightvault/mark/image_marker.h"
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
  std::string image_key_path;  // --key: images' watermark key
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

// {"watermark": ..., "metadata": ..., "c2pa": ...}: see mark::image_marks_json.
Result<nlohmann::ordered_json> detect_image(const Args& args, const std::string& bytes) {
  mark::ImageWatermarkKey key = mark::default_image_watermark_key();
  if (!args.image_key_path.empty()) {
    LV_ASSIGN_OR_RETURN(key, mark::read_image_watermark_key(args.image_key_path));
  }
  LV_ASSIGN_OR_RETURN(mark::ImageMarks marks, mark::inspect_image(bytes, args.input, key));
  return mark::image_marks_json(marks);
}

void print_image(const nlohmann::ordered_json& report) {
  const auto& w = report["watermark"];
  if (w.contains("error")) {
    std::printf("watermark: not checked (%s)\n", w["error"].get<std::string>().c_str());
  } else if (w["found"].get<bool>()) {
    std::printf("watermark: found, payload %s (bit agreement %.3f, score %.2f, false-positive bound %.3g, scale %d%%, "
                "rotated %.1f degrees)\n",
                w["payload"].get<std::string>().c_str(), w["bit_agreement"].get<double>(), w["score"].get<double>(),
                w["false_positive_bound"].get<double>(), w["scale_percent"].get<int>(), w["angle_degrees"].get<double>());
  } else {
    std::printf("watermark: not found (bit agreement %.3f, score %.2f)\n", w["bit_agreement"].get<double>(), w["score"].get<double>());
  }
  const auto& m = report["metadata"];
  if (m.contains("error")) {
    std::printf("metadata: unreadable (%s)\n", m["error"].get<std::string>().c_str());
  } else if (m["aigc"].is_null()) {
    std::printf("metadata: no AIGC field\n");
  } else {
    std::string fields;
    for (const auto& [key, value] : m["aigc"].items()) {
      if (!value.get<std::string>().empty()) fields += " " + key + "=" + value.get<std::string>();
    }
    std::printf("metadata: AIGC%s\n", fields.c_str());
  }
  const auto& c = report["c2pa"];
  std::printf("c2pa: %s\n", !c["present"].get<bool>() ? "none" : c["valid"].get<bool>() ? "present, valid" : "present, NOT valid");
}

CommandRun setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("input", args->input, "file to check (text, JPEG or PNG)")->required();
  sub.add_option("--model", args->model.path, "model whose tokenizer generated the text");
  sub.add_option("--tokenizer", args->model.tokenizer, "tokenizer file, for formats that keep it apart (llama2.c)");
  args->watermark.add_to(sub, false);
  sub.add_option("--z-threshold", args->z_threshold, "z-score from which a watermark counts as found")->capture_default_str();
  sub.add_option("--key", args->image_key_path, "images: watermark key file (default: the built-in key)");
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
      case mark::MediaKind::Jpeg:
        report = detect_image(*args, *bytes);
        break;
      case mark::MediaKind::Empty:
        return fail(make_error(args->input, "empty file"));
      case mark::MediaKind::Binary:
        return fail(make_error(args->input, "binary data, neither text nor an image"));
    }
    if (!report.ok()) return fail(report.error());
    if (args->json) {
      std::printf("%s\n", report->dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    } else if (report->contains("text_watermark")) {
      print_text(*report);
    } else {
      print_image(*report);
    }
    return 0;
  };
}

CommandRegistrar registrar("detect", "check a file for AI-generation marks (text: the keyed watermark; images: watermark, AIGC metadata, C2PA)", setup);

}  // namespace
}  // namespace lv::cli
