#pragma once
// Where a C2PA manifest store (a JUMBF superbox) lives in an image file, following the C2PA
// specification's "Embedding manifests into assets":
//   JPEG: APP11 segments framed as JPEG XT boxes (ISO/IEC 18477-3): "JP", a box instance
//         number En, a packet sequence number Z from 1, then the box's LBox/TBox and the next
//         part of its payload, at most 64 KiB a segment;
//   PNG:  one `caBX` chunk holding the store, before the first IDAT.
// Contract: the readers walk only the file's structure (JPEG segments up to the first SOS,
// PNG chunks up to IEND), check every length against the bytes there are, and name the
// offset of whatever is broken.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightvault/mark/image.h"
#include "lightvault/util/status.h"

namespace lv::mark {

// JPEG or PNG by signature; an error (naming `context`) for anything else.
Result<ImageFormat> sniff_image_format(std::string_view file, const std::string& context);

struct C2paEmbedding {
  std::string store;                                // the JUMBF manifest store, reassembled
  std::vector<std::pair<size_t, size_t>> ranges;    // (start, length) of each segment or chunk
};

// The first manifest store in the file; nullopt when there is none.
Result<std::optional<C2paEmbedding>> find_c2pa_store(std::string_view file, ImageFormat format, const std::string& context);

// The file without any C2PA manifest store, so that a new one replaces rather than adds.
Result<std::string> remove_c2pa_stores(std::string_view file, ImageFormat format, const std::string& context);

// Where a store is inserted: in JPEG after SOI and the APP0/APP1 segments that lead (JFIF,
// Exif and XMP stay first, as their specifications ask); in PNG right after IHDR.
Result<size_t> c2pa_insert_offset(std::string_view file, ImageFormat format, const std::string& context);

// PNG's chunk CRC (ISO 3309) over a chunk's type and data.
uint32_t png_crc32(std::string_view type_and_data);

// `store` framed for `format`: APP11 segments or one caBX chunk, ready to insert.
Result<std::string> frame_c2pa_store(std::string_view store, ImageFormat format);

}  // namespace lv::mark
