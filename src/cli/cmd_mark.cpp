// lightvault mark FILE -o OUT: label FILE as AI-generated. One command for every kind of
// content; the file's first bytes choose how. Text: a label line at the start or the end.
// Images (JPEG, PNG): a visible label, an invisible watermark, GB 45438 AIGC metadata and,
// given a signing key, a C2PA manifest.
// `lightvault mark keygen --c2pa-key KEY --c2pa-cert CERT`: a throwaway C2PA signing pair.
#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "lightvault/mark/c2pa.h"
#include "lightvault/mark/image_marker.h"
#include "lightvault/mark/media_kind.h"
#include "lightvault/mark/text_label.h"
#include "lightvault/model/tokenizer.h"
#include "lightvault/util/text.h"

namespace lv::cli {
namespace {

struct Args {
  std::string input, output;
  // Each kind has its own defaults; these hold what the user gave, if anything.
  std::string label, position;
  bool no_label = false;
  // Images only.
  bool no_watermark = false;
  std::string payload_hex, key_path, producer, produce_id;
  std::string c2pa_key, c2pa_cert;
};

// Written beside OUT and renamed over it, so OUT is never left half written.
Status write_whole(const std::string& path, const std::string& bytes) {
  const std::string temp = path + ".part";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(path, "cannot create " + temp);
    out << bytes;
    out.close();
    if (!out) {
      std::remove(temp.c_str());
      return make_error(path, "write failed");
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return make_error(path, "cannot rename " + temp + " into place");
  }
  return Status::Ok();
}

Result<std::string> mark_text(Args args, const std::string& text) {
  if (args.no_label) return make_error(args.input, "--no-label: a text's only mark is its label");
  if (args.label.empty()) args.label = mark::kDefaultTextLabel;
  if (args.position.empty()) args.position = "start";
  if (int64_t bad = first_invalid_utf8(text); bad >= 0) {
    return make_error(args.input, "not valid UTF-8 text (offset " + std::to_string(bad) + ")");
  }
  LV_RETURN_IF_ERROR(mark::validate_label(args.label));
  if (first_invalid_utf8(args.label) >= 0) return make_error("--label", "not valid UTF-8");
  LV_ASSIGN_OR_RETURN(mark::LabelPosition position, mark::parse_label_position(args.position));
  if (!mark::label_names_ai_generation(args.label)) {
    std::fprintf(stderr, "warning: --label does not say the text is AI-generated (GB 45438 asks for 人工智能 or AI with 生成 or 合成)\n");
  }
  if (mark::has_text_label(text, args.label, position)) std::fprintf(stderr, "%s: already labelled\n", args.input.c_str());
  return mark::add_text_label(text, args.label, position);
}

// Prints what was done: the payload is the id to look the image up by later.
Result<std::string> mark_image(const Args& args, const std::string& bytes) {
  mark::ImageMarkOptions options;
  options.label = args.no_label ? "" : args.label.empty() ? std::string(mark::kDefaultImageLabel) : args.label;
  if (!options.label.empty()) {
    if (first_invalid_utf8(options.label) >= 0) return make_error("--label", "not valid UTF-8");
    if (!mark::label_names_ai_generation(options.label)) {
      std::fprintf(stderr, "warning: --label does not say the image is AI-generated (GB 45438 asks for 人工智能 or AI with 生成 or 合成)\n");
    }
  }
  LV_ASSIGN_OR_RETURN(options.corner, mark::parse_label_corner(args.position.empty() ? "bottom-right" : args.position));
  options.watermark = !args.no_watermark;
  if (!args.payload_hex.empty()) {
    LV_ASSIGN_OR_RETURN(options.payload, mark::parse_payload_hex(args.payload_hex));
  } else {
    options.payload = mark::random_image_payload();
  }
  if (!args.key_path.empty()) {
    LV_ASSIGN_OR_RETURN(options.key, mark::read_image_watermark_key(args.key_path));
  }
  options.aigc.content_producer = args.producer;
  // The watermark's payload doubles as the metadata's content id, so either layer alone
  // names the same record.
  options.aigc.produce_id = args.produce_id.empty() ? mark::payload_hex(options.payload) : args.produce_id;
  options.c2pa_key_path = args.c2pa_key;
  options.c2pa_cert_path = args.c2pa_cert;
  LV_ASSIGN_OR_RETURN(mark::MarkedImage marked, mark::mark_image(bytes, args.input, options));

  std::string done;
  if (marked.label) {
    char detail[160];
    std::snprintf(detail, sizeof detail, " at %s (text %d px, contrast %.1f:1)",
                  args.position.empty() ? "bottom-right" : args.position.c_str(), marked.label->text_height, marked.label->contrast);
    done += "label " + quote_for_message(options.label) + detail;
  }
  if (options.watermark) done += std::string(done.empty() ? "" : ", ") + "watermark payload " + mark::payload_hex(options.payload);
  done += std::string(done.empty() ? "" : ", ") + "AIGC metadata (ProduceID " + options.aigc.produce_id + ")";
  if (!args.c2pa_key.empty()) done += ", C2PA manifest";
  std::printf("%s: %s\n", args.output.c_str(), done.c_str());
  return std::move(marked.bytes);
}

struct KeygenArgs {
  std::string key, cert;
  std::string subject = "lightvault C2PA test signer";
};

int keygen(const KeygenArgs& args) {
  if (auto written = mark::write_c2pa_test_credentials(args.key, args.cert, args.subject); !written.ok()) return fail(written.error());
  std::printf("wrote %s (P-256 key) and %s (its certificate and a throwaway root): for trying C2PA, not trusted by anyone\n",
              args.key.c_str(), args.cert.c_str());
  return 0;
}

CommandRun setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  // Not ->required(): `mark keygen` takes neither; the run checks them for marking.
  sub.add_option("input", args->input, "file to label (text, JPEG or PNG)");
  sub.add_option("-o,--output", args->output, "labelled copy (may be the input itself)");
  auto* label = sub.add_option("--label", args->label, "label text (text: 【AI生成】 as a line; images: AI生成 on a plate)");
  sub.add_flag("--no-label", args->no_label, "images: no visible label")->excludes(label);
  sub.add_option("--label-position", args->position, "text: start or end (start); images: top-left, top-right, bottom-left or bottom-right (bottom-right)");
  sub.add_flag("--no-watermark", args->no_watermark, "images: no invisible watermark");
  sub.add_option("--payload", args->payload_hex, "images: the watermark's 64-bit id as 16 hex digits (default: random, printed)");
  sub.add_option("--key", args->key_path, "images: watermark key file, 32 bytes or 64 hex digits (default: the built-in key)");
  sub.add_option("--producer", args->producer, "images: AIGC ContentProducer, the generating service's name or code");
  sub.add_option("--produce-id", args->produce_id, "images: AIGC ProduceID (default: the payload)");
  sub.add_option("--c2pa-key", args->c2pa_key, "images: sign a C2PA manifest with this ES256 key (PEM)");
  sub.add_option("--c2pa-cert", args->c2pa_cert, "images: the signing key's certificate chain (PEM, signer first)");
  auto keygen_args = std::make_shared<KeygenArgs>();
  CLI::App* keygen_cmd = sub.add_subcommand("keygen", "make a self-made C2PA signing key and certificate chain for trying C2PA");
  keygen_cmd->add_option("--c2pa-key", keygen_args->key, "private key to write (PEM, mode 0600)")->required();
  keygen_cmd->add_option("--c2pa-cert", keygen_args->cert, "certificate chain to write (PEM, signer first)")->required();
  keygen_cmd->add_option("--subject", keygen_args->subject, "the certificate's common name")->capture_default_str();
  return [args, keygen_args, keygen_cmd] {
    if (keygen_cmd->parsed()) return keygen(*keygen_args);
    if (args->input.empty() || args->output.empty()) return fail(make_error("mark", "IN and -o OUT are required"));
    auto bytes = read_file(args->input);
    if (!bytes.ok()) return fail(bytes.error());
    const mark::MediaKind kind = mark::sniff_media(*bytes);
    Result<std::string> marked = Error{};
    switch (kind) {
      case mark::MediaKind::Text:
        marked = mark_text(*args, *bytes);
        break;
      case mark::MediaKind::Png:
      case mark::MediaKind::Jpeg:
        marked = mark_image(*args, *bytes);
        break;
      case mark::MediaKind::Empty:
        return fail(make_error(args->input, "empty file"));
      case mark::MediaKind::Binary:
        return fail(make_error(args->input, "binary data, neither text nor an image"));
    }
    if (!marked.ok()) return fail(marked.error());
    if (auto written = write_whole(args->output, *marked); !written.ok()) return fail(written.error());
    return 0;
  };
}

CommandRegistrar registrar("mark", "label a file as AI-generated (text: a label line; images: label, watermark, metadata)", setup);

}  // namespace
}  // namespace lv::cli
