#include "lightvault/mark/image.h"

// jpeglib.h needs size_t and FILE declared first.
#include <cstddef>
#include <cstdio>
// clang-format off
#include <jpeglib.h>
// clang-format on
#include <png.h>

#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace lv::mark {
namespace {

// Both libraries report fatal errors through a callback that must not return. We longjmp out
// of it. To keep that defined in C++, every function that calls setjmp holds nothing with a
// destructor and keeps its state behind a pointer (so nothing lives only in a register across
// the jump); the caller owns that state and turns the recorded message into an Error.

std::string dimensions_over_limit(const char* kind, int64_t width, int64_t height) {
  return std::string(kind) + " width " + std::to_string(width) + " x " + std::to_string(height) +
         " over the limit of " + std::to_string(kMaxImagePixels) + " pixels";
}

bool too_many_pixels(int64_t width, int64_t height) {
  return width <= 0 || height <= 0 || width > kMaxImagePixels / height;
}

// ---- JPEG ----

// A progressive JPEG may hold any number of scans, each a pass over the whole image; hostile
// files use thousands to make decoding take minutes. Real encoders write at most a few dozen.
constexpr int kMaxJpegScans = 256;

struct JpegErrorManager {
  jpeg_error_mgr pub;  // first, so libjpeg's pointer to it is a pointer to us
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// libjpeg only warns about corrupt data (premature end, bad Huffman codes) and fills the rest
// of the image with grey; a watermark or label on such an image would be put on made-up
// pixels, so every warning is an error here. Trace messages (level > 0) are ignored.
void jpeg_message(j_common_ptr cinfo, int level) {
  if (level < 0) jpeg_fail(cinfo);
}

void jpeg_count_scans(j_common_ptr cinfo) {
  if (cinfo->is_decompressor) {
    auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
    if (d->input_scan_number > kMaxJpegScans) {
      auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
      std::snprintf(err->message, sizeof err->message, "more than %d progressive scans", kMaxJpegScans);
      std::longjmp(err->jump, 1);
    }
  }
}

struct JpegDecode {
  std::string_view bytes;
  jpeg_decompress_struct cinfo;
  JpegErrorManager err;
  jpeg_progress_mgr progress;
  bool created = false;
  bool over_limit = false;
  bool cmyk = false;
  Image image;
};

// Returns false with d->err.message set (or d->over_limit) on failure.
bool run_jpeg_decode(JpegDecode* d) {
  d->cinfo.err = jpeg_std_error(&d->err.pub);
  d->err.pub.error_exit = jpeg_fail;
  d->err.pub.emit_message = jpeg_message;
  d->err.message[0] = '\0';
  if (setjmp(d->err.jump)) return false;
  jpeg_create_decompress(&d->cinfo);
  d->created = true;
  d->progress.progress_monitor = jpeg_count_scans;
  d->cinfo.progress = &d->progress;
  jpeg_mem_src(&d->cinfo, reinterpret_cast<const unsigned char*>(d->bytes.data()), static_cast<unsigned long>(d->bytes.size()));
  jpeg_read_header(&d->cinfo, TRUE);
  if (too_many_pixels(d->cinfo.image_width, d->cinfo.image_height)) {
    d->over_limit = true;
    return false;
  }
  switch (d->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      d->cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      d->cinfo.out_color_space = JCS_CMYK;  // converted to RGB below; libjpeg does not
      d->cmyk = true;
      break;
    default:
      d->cinfo.out_color_space = JCS_RGB;
  }
  jpeg_start_decompress(&d->cinfo);
  Image& image = d->image;
  image.width = static_cast<int>(d->cinfo.output_width);
  image.height = static_cast<int>(d->cinfo.output_height);
  const int components = d->cinfo.output_components;
  image.channels = d->cmyk ? 3 : components;
  image.format = ImageFormat::Jpeg;
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * components);
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    JSAMPROW row = image.pixels.data() + static_cast<size_t>(d->cinfo.output_scanline) * image.width * components;
    jpeg_read_scanlines(&d->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&d->cinfo);
  return true;
}

// Adobe writes CMYK JPEGs inverted (255 = no ink); with that convention R = C*K/255 and so on.
void cmyk_to_rgb(Image& image, bool inverted) {
  const size_t n = static_cast<size_t>(image.width) * image.height;
  uint8_t* p = image.pixels.data();
  for (size_t i = 0; i < n; ++i) {
    int c = p[4 * i], m = p[4 * i + 1], y = p[4 * i + 2], k = p[4 * i + 3];
    if (!inverted) c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
    p[3 * i] = static_cast<uint8_t>(c * k / 255);
    p[3 * i + 1] = static_cast<uint8_t>(m * k / 255);
    p[3 * i + 2] = static_cast<uint8_t>(y * k / 255);
  }
  image.pixels.resize(n * 3);
}

Result<Image> decode_jpeg(std::string_view bytes, const std::string& name) {
  auto d = std::make_unique<JpegDecode>();
  d->bytes = bytes;
  const bool ok = run_jpeg_decode(d.get());
  const bool inverted = d->created && d->cinfo.saw_Adobe_marker;
  if (d->created) jpeg_destroy_decompress(&d->cinfo);
  if (d->over_limit) return make_error(name, dimensions_over_limit("JPEG", d->cinfo.image_width, d->cinfo.image_height));
  if (!ok) {
    std::string what = d->err.message;
    // libjpeg-turbo's wording for a file cut short; the contract promises this one.
    if (what.find("Premature end") != std::string::npos) what = "truncated JPEG data (" + what + ")";
    return make_error(name, "JPEG: " + what);
  }
  if (d->cmyk) cmyk_to_rgb(d->image, inverted);
  return std::move(d->image);
}

struct JpegEncode {
  const Image* image;
  ImageWriteOptions options;
  jpeg_compress_struct cinfo;
  JpegErrorManager err;
  bool created = false;
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  std::vector<uint8_t> row;  // an RGBA row without its alpha
};

bool run_jpeg_encode(JpegEncode* e) {
  e->cinfo.err = jpeg_std_error(&e->err.pub);
  e->err.pub.error_exit = jpeg_fail;
  e->err.message[0] = '\0';
  if (setjmp(e->err.jump)) return false;
  jpeg_create_compress(&e->cinfo);
  e->created = true;
  jpeg_mem_dest(&e->cinfo, &e->out, &e->out_size);
  const Image& image = *e->image;
  e->cinfo.image_width = static_cast<JDIMENSION>(image.width);
  e->cinfo.image_height = static_cast<JDIMENSION>(image.height);
  e->cinfo.input_components = image.channels == 1 ? 1 : 3;
  e->cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&e->cinfo);
  jpeg_set_quality(&e->cinfo, e->options.jpeg_quality, TRUE);
  if (image.channels != 1 && e->options.jpeg_chroma_444) {
    e->cinfo.comp_info[0].h_samp_factor = 1;
    e->cinfo.comp_info[0].v_samp_factor = 1;
  }
  e->cinfo.optimize_coding = TRUE;
  jpeg_start_compress(&e->cinfo, TRUE);
  while (e->cinfo.next_scanline < e->cinfo.image_height) {
    const uint8_t* src = image.row(static_cast<int>(e->cinfo.next_scanline));
    if (image.channels == 4) {
      for (int x = 0; x < image.width; ++x) std::memcpy(&e->row[3 * x], src + 4 * x, 3);
      src = e->row.data();
    }
    JSAMPROW row = const_cast<JSAMPROW>(src);
    jpeg_write_scanlines(&e->cinfo, &row, 1);
  }
  jpeg_finish_compress(&e->cinfo);
  return true;
}

Result<std::string> encode_jpeg(const Image& image, const ImageWriteOptions& options) {
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
    return make_error("JPEG quality", std::to_string(options.jpeg_quality) + " is not in 1..100");
  }
  auto e = std::make_unique<JpegEncode>();
  e->image = &image;
  e->options = options;
  if (image.channels == 4) e->row.resize(static_cast<size_t>(image.width) * 3);
  const bool ok = run_jpeg_encode(e.get());
  if (e->created) jpeg_destroy_compress(&e->cinfo);
  std::string bytes;
  if (ok) bytes.assign(reinterpret_cast<const char*>(e->out), e->out_size);
  std::free(e->out);
  if (!ok) return make_error("JPEG encoder", e->err.message);
  return bytes;
}

// ---- PNG ----

// libpng's own guards: no dimension over this (the pixel limit is checked after the header),
// and no ancillary chunk (text, ICC profile, ...) may inflate to more than this many bytes,
// which is what stops a zTXt/iCCP decompression bomb.
constexpr png_uint_32 kMaxPngSide = 1u << 20;
constexpr png_alloc_size_t kMaxPngChunkBytes = 16u << 20;
constexpr png_uint_32 kMaxPngAncillaryChunks = 1000;

struct PngDecode {
  std::string_view bytes;
  size_t offset = 0;
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::string message;
  bool over_limit = false;
  png_uint_32 width = 0, height = 0;
  Image image;
  std::vector<png_bytep> rows;
};

void png_fail(png_structp png, png_const_charp message) {
  auto* d = static_cast<PngDecode*>(png_get_error_ptr(png));
  d->message = message;
  png_longjmp(png, 1);
}

// Ancillary-chunk CRC errors and the like: libpng recovers (drops the chunk), and so do we.
void png_warn(png_structp, png_const_charp) {}

void png_read_bytes(png_structp png, png_bytep out, size_t length) {
  auto* d = static_cast<PngDecode*>(png_get_io_ptr(png));
  if (length > d->bytes.size() - d->offset) png_error(png, "truncated PNG data");
  std::memcpy(out, d->bytes.data() + d->offset, length);
  d->offset += length;
}

bool run_png_decode(PngDecode* d) {
  if (setjmp(png_jmpbuf(d->png))) return false;
  png_set_read_fn(d->png, d, png_read_bytes);
  png_set_user_limits(d->png, kMaxPngSide, kMaxPngSide);
  png_set_chunk_malloc_max(d->png, kMaxPngChunkBytes);
  png_set_chunk_cache_max(d->png, kMaxPngAncillaryChunks);
  png_read_info(d->png, d->info);
  d->width = png_get_image_width(d->png, d->info);
  d->height = png_get_image_height(d->png, d->info);
  if (too_many_pixels(d->width, d->height)) {
    d->over_limit = true;
    return false;
  }
  const int color = png_get_color_type(d->png, d->info);
  // To 8-bit grey, RGB or RGBA: palettes and low bit depths expand, a tRNS chunk becomes
  // alpha, 16-bit samples keep their high byte, and grey+alpha becomes RGBA (we keep no
  // two-channel images).
  png_set_expand(d->png);
  png_set_strip_16(d->png);
  if (color == PNG_COLOR_TYPE_GRAY_ALPHA ||
      (color == PNG_COLOR_TYPE_GRAY && png_get_valid(d->png, d->info, PNG_INFO_tRNS))) {
    png_set_gray_to_rgb(d->png);
  }
  png_set_interlace_handling(d->png);
  png_read_update_info(d->png, d->info);
  Image& image = d->image;
  image.width = static_cast<int>(d->width);
  image.height = static_cast<int>(d->height);
  image.channels = png_get_channels(d->png, d->info);
  image.format = ImageFormat::Png;
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) png_error(d->png, "unsupported channel layout");
  if (png_get_rowbytes(d->png, d->info) != static_cast<size_t>(image.width) * image.channels) {
    png_error(d->png, "unexpected row size after conversion to 8 bits");
  }
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * image.channels);
  d->rows.resize(image.height);
  for (int y = 0; y < image.height; ++y) d->rows[y] = image.row(y);
  png_read_image(d->png, d->rows.data());
  png_read_end(d->png, nullptr);
  return true;
}

Result<Image> decode_png(std::string_view bytes, const std::string& name) {
  auto d = std::make_unique<PngDecode>();
  d->bytes = bytes;
  d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d.get(), png_fail, png_warn);
  if (!d->png) return make_error(name, "PNG: out of memory");
  d->info = png_create_info_struct(d->png);
  bool ok = d->info != nullptr && run_png_decode(d.get());
  png_destroy_read_struct(&d->png, d->info ? &d->info : nullptr, nullptr);
  if (d->over_limit) return make_error(name, dimensions_over_limit("PNG", d->width, d->height));
  if (!ok) return make_error(name, "PNG: " + (d->message.empty() ? std::string("out of memory") : d->message));
  return std::move(d->image);
}

struct PngEncode {
  const Image* image;
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::string out;
  std::string message;
  std::vector<png_bytep> rows;
};

void png_encode_fail(png_structp png, png_const_charp message) {
  static_cast<PngEncode*>(png_get_error_ptr(png))->message = message;
  png_longjmp(png, 1);
}

void png_write_bytes(png_structp png, png_bytep data, size_t length) {
  static_cast<PngEncode*>(png_get_io_ptr(png))->out.append(reinterpret_cast<const char*>(data), length);
}
void png_flush_nothing(png_structp) {}

bool run_png_encode(PngEncode* e) {
  if (setjmp(png_jmpbuf(e->png))) return false;
  const Image& image = *e->image;
  png_set_write_fn(e->png, e, png_write_bytes, png_flush_nothing);
  const int color = image.channels == 1 ? PNG_COLOR_TYPE_GRAY : image.channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
  png_set_IHDR(e->png, e->info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8, color,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(e->png, e->info);
  e->rows.resize(image.height);
  for (int y = 0; y < image.height; ++y) e->rows[y] = const_cast<png_bytep>(image.row(y));
  png_write_image(e->png, e->rows.data());
  png_write_end(e->png, nullptr);
  return true;
}

Result<std::string> encode_png(const Image& image) {
  auto e = std::make_unique<PngEncode>();
  e->image = &image;
  e->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, e.get(), png_encode_fail, png_warn);
  if (!e->png) return make_error("PNG encoder", "out of memory");
  e->info = png_create_info_struct(e->png);
  const bool ok = e->info != nullptr && run_png_encode(e.get());
  png_destroy_write_struct(&e->png, e->info ? &e->info : nullptr);
  if (!ok) return make_error("PNG encoder", e->message.empty() ? std::string("out of memory") : e->message);
  return std::move(e->out);
}

}  // namespace

Result<Image> decode_image(std::string_view bytes, const std::string& name) {
  if (bytes.starts_with("\x89PNG\r\n\x1a\n")) return decode_png(bytes, name);
  if (bytes.starts_with("\xff\xd8\xff")) return decode_jpeg(bytes, name);
  return make_error(name, "not a PNG or JPEG image");
}

Result<std::string> encode_image(const Image& image, const ImageWriteOptions& options) {
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    return make_error("image", std::to_string(image.channels) + " channels; 1, 3 or 4 can be written");
  }
  if (too_many_pixels(image.width, image.height)) {
    return make_error("image", dimensions_over_limit("image", image.width, image.height));
  }
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels) {
    return make_error("image", "pixel buffer of " + std::to_string(image.pixels.size()) + " bytes does not match " +
                                   std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                                   std::to_string(image.channels));
  }
  if (image.format == ImageFormat::Jpeg) return encode_jpeg(image, options);
  return encode_png(image);
}

}  // namespace lv::mark
