// lightvault mark FILE -o OUT: label FILE as AI-generated. One command for every kind of
// content; the file's first bytes choose how. Text: a label line at the start or the end.
// Images: not yet (issue 10 adds their visible label and watermark in mark_image below).
// `lightvault mark keygen --c2pa-key KEY --c2pa-cert CERT`: a throwaway C2PA signing pair.
#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "lightvault/mark/c2pa.h"
#include "lightvault/mark/media_kind.h"
#include "lightvault/mark/text_label.h"
#include "lightvault/model/tokenizer.h"
#include "lightvault/util/text.h"

namespace lv::cli {
namespace {

struct Args {
  std::string input, output;
  std::string label{mark::kDefaultTextLabel};
  std::string position = "start";
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

Result<std::string> mark_text(const Args& args, const std::string& text) {
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
  auto keygen_args = std::make_shared<KeygenArgs>();
  CLI::App* keygen_cmd = sub.add_subcommand("keygen", "make a self-made C2PA signing key and certificate chain for trying C2PA");
  keygen_cmd->add_option("--c2pa-key", keygen_args->key, "private key to write (PEM, mode 0600)")->required();
  keygen_cmd->add_option("--c2pa-cert", keygen_args->cert, "certificate chain to write (PEM, signer first)")->required();
  keygen_cmd->add_option("--subject", keygen_args->subject, "the certificate's common name")->capture_default_str();
  // Not ->required(): `mark keygen` takes neither; the run checks them for the marking path.
  sub.add_option("input", args->input, "file to label (text)");
  sub.add_option("-o,--output", args->output, "labelled copy (may be the input itself)");
  sub.add_option("--label", args->label, "label line")->capture_default_str();
  sub.add_option("--label-position", args->position, "start or end")->capture_default_str();
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
      case mark::MediaKind::Jpeg:  // issue 10: mark_image(*args, *bytes) goes here
        return fail(make_error(args->input, std::string(mark::media_kind_name(kind)) + ": image labels are not built yet"));
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

CommandRegistrar registrar("mark", "label a file as AI-generated (text: a label line)", setup);

}  // namespace
}  // namespace lv::cli
