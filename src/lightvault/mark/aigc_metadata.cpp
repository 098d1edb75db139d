#include "lightvault/mark/aigc_metadata.h"

// exiv2 0.27 (Debian 12) hands images out as std::auto_ptr, deprecated since C++11; the
// warning is about its API, not something this file can change.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <exiv2/exiv2.hpp>

#include <mutex>
#include <nlohmann/json.hpp>

namespace lv::mark {
namespace {

struct Key {
  const char* name;
  std::string AigcFields::*field;
};
constexpr Key kKeys[] = {
    {"Label", &AigcFields::label},
    {"ContentProducer", &AigcFields::content_producer},
    {"ProduceID", &AigcFields::produce_id},
    {"ReservedCode1", &AigcFields::reserved_code1},
    {"ContentPropagator", &AigcFields::content_propagator},
    {"PropagateID", &AigcFields::propagate_id},
    {"ReservedCode2", &AigcFields::reserved_code2},
};

// exiv2 keeps its XMP toolkit and namespace table in globals: set them up once, and keep
// its warnings about odd files off our stderr (its errors reach us as exceptions).
void init_exiv2() {
  static std::once_flag once;
  std::call_once(once, [] {
    Exiv2::LogMsg::setLevel(Exiv2::LogMsg::mute);
    Exiv2::XmpParser::initialize();
    Exiv2::XmpProperties::registerNs(std::string(kAigcNamespace), std::string(kAigcPrefix));
  });
}

bool is_jpeg_or_png(std::string_view bytes) {
  return bytes.starts_with("\x89PNG\r\n\x1a\n") || bytes.starts_with("\xff\xd8\xff");
}

Exiv2::Image::AutoPtr open_image(std::string_view bytes) {
  auto image = Exiv2::ImageFactory::open(reinterpret_cast<const Exiv2::byte*>(bytes.data()), static_cast<long>(bytes.size()));
  if (image.get() == nullptr) throw Exiv2::Error(Exiv2::kerFileContainsUnknownImageType);
  const int type = image->imageType();
  if (type != Exiv2::ImageType::jpeg && type != Exiv2::ImageType::png) throw Exiv2::Error(Exiv2::kerFileContainsUnknownImageType);
  image->readMetadata();
  return image;
}

std::string io_bytes(Exiv2::BasicIo& io) {
  io.seek(0, Exiv2::BasicIo::beg);
  Exiv2::DataBuf buf = io.read(io.size());
  return std::string(reinterpret_cast<const char*>(buf.pData_), static_cast<size_t>(buf.size_));
}

}  // namespace

std::string aigc_json(const AigcFields& fields) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const Key& key : kKeys) object[key.name] = fields.*key.field;
  // Replace rather than throw on bad UTF-8: fields may come from a hostile file or argument.
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<AigcFields> parse_aigc_json(std::string_view json, const std::string& context) {
  auto object = nlohmann::json::parse(json, nullptr, false);
  if (object.is_discarded() || !object.is_object()) return make_error(context, "AIGC is not a JSON object");
  AigcFields fields;
  fields.label.clear();
  for (const Key& key : kKeys) {
    auto it = object.find(key.name);
    if (it == object.end() || it->is_null()) continue;
    if (it->is_string()) {
      fields.*key.field = it->get<std::string>();
    } else if (it->is_number()) {
      fields.*key.field = it->dump();
    } else {
      return make_error(context, std::string("AIGC.") + key.name + " is neither a string nor a number");
    }
  }
  return fields;
}

Result<std::string> attach_aigc_metadata(std::string_view encoded, std::string_view source, const AigcFields& fields,
                                         const std::string& name) {
  if (!is_jpeg_or_png(encoded) || !is_jpeg_or_png(source) || encoded[0] != source[0]) {
    return make_error(name, "metadata can be attached only to a JPEG or PNG of the source's format");
  }
  init_exiv2();
  try {
    auto from = open_image(source);
    auto to = open_image(encoded);
    Exiv2::ExifData exif = from->exifData();
    Exiv2::ExifThumb(exif).erase();
    to->setExifData(exif);
    to->setIptcData(from->iptcData());
    Exiv2::XmpData xmp = from->xmpData();
    xmp[std::string(kAigcXmpKey)] = aigc_json(fields);
    to->setXmpData(xmp);
    to->setComment(from->comment());
    if (from->iccProfileDefined()) {
      Exiv2::DataBuf icc(from->iccProfile()->pData_, from->iccProfile()->size_);
      to->setIccProfile(icc, false);  // copied as it was; the decoder already accepted it
    }
    to->writeMetadata();
    return io_bytes(to->io());
  } catch (const Exiv2::AnyError& e) {
    return make_error(name, std::string("metadata: ") + e.what());
  } catch (const std::exception& e) {
    return make_error(name, std::string("metadata: ") + e.what());
  }
}

Result<std::optional<AigcFields>> read_aigc_metadata(std::string_view bytes, const std::string& name) {
  if (!is_jpeg_or_png(bytes)) return make_error(name, "not a PNG or JPEG image");
  init_exiv2();
  std::string json;
  try {
    auto image = open_image(bytes);
    const Exiv2::XmpData& xmp = image->xmpData();
    auto it = xmp.findKey(Exiv2::XmpKey(std::string(kAigcXmpKey)));
    if (it == xmp.end()) return std::optional<AigcFields>();
    json = it->toString();
  } catch (const Exiv2::AnyError& e) {
    return make_error(name, std::string("metadata: ") + e.what());
  } catch (const std::exception& e) {
    return make_error(name, std::string("metadata: ") + e.what());
  }
  LV_ASSIGN_OR_RETURN(AigcFields fields, parse_aigc_json(json, name + ": " + std::string(kAigcXmpKey)));
  return std::optional<AigcFields>(std::move(fields));
}

}  // namespace lv::mark

#pragma GCC diagnostic pop
