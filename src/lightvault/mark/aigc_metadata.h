#pragma once
// The implicit label GB 45438-2025 asks of AI-generated files: an `AIGC` metadata field whose
// value is a JSON object naming the label, who produced the content and who spread it. For
// images it lives in XMP as Xmp.TC260.AIGC (prefix TC260, namespace
// http://www.tc260.org.cn/ns/AIGC/1.0/): JPEG APP1 and PNG iTXt, read and written by exiv2.
// Contract: attach_aigc_metadata keeps every metadata block the source image had (Exif, IPTC,
// XMP, comment, ICC profile) and sets or replaces only the AIGC field; readers accept any
// bytes, returning an error (naming the file) or the field, never crashing.
#include <optional>
#include <string>
#include <string_view>

#include "lightvault/util/status.h"

namespace lv::mark {

inline constexpr std::string_view kAigcNamespace = "http://www.tc260.org.cn/ns/AIGC/1.0/";
inline constexpr std::string_view kAigcPrefix = "TC260";
inline constexpr std::string_view kAigcXmpKey = "Xmp.TC260.AIGC";
// The standard's Label values: 1 the content is AI-generated, 2 it may be, 3 it is suspected.
inline constexpr std::string_view kAigcLabelGenerated = "1";

// The seven elements, in the standard's order; all strings, empty when not known.
struct AigcFields {
  std::string label{kAigcLabelGenerated};
  std::string content_producer;    // the generating service provider's name or code
  std::string produce_id;          // the provider's id for this piece of content
  std::string reserved_code1;      // the provider's own use (e.g. a digest or signature)
  std::string content_propagator;  // the distributing service's name or code
  std::string propagate_id;        // the distributor's id for it
  std::string reserved_code2;      // the distributor's own use
  bool operator==(const AigcFields&) const = default;
};

// {"Label": ..., "ContentProducer": ..., ...} with the standard's key names, compact.
std::string aigc_json(const AigcFields& fields);
// The inverse; strings or numbers per key, absent keys empty, other keys ignored. Errors name
// `context` and the key.
Result<AigcFields> parse_aigc_json(std::string_view json, const std::string& context);

// `encoded` (a JPEG or PNG just written from the pixels of `source`) with `source`'s metadata
// and the AIGC field. `name` is the context of errors. An Exif thumbnail is dropped: it would
// still show the unlabelled picture.
Result<std::string> attach_aigc_metadata(std::string_view encoded, std::string_view source, const AigcFields& fields,
                                         const std::string& name);

// The AIGC field of a JPEG or PNG: nullopt when it has none; an error when the file is not a
// JPEG or PNG, exiv2 cannot read it, or the field is not the JSON object above.
Result<std::optional<AigcFields>> read_aigc_metadata(std::string_view bytes, const std::string& name);

}  // namespace lv::mark
