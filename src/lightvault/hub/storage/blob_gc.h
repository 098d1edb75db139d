#pragma once
// Garbage collection of stored blobs that no revision references — the uploads of a push that
// never committed, the files of a deleted repository — and the upload step it must not race.
//
// A blob is garbage when no file of any commit of its owner's repositories has its sha256 and
// it was last uploaded before the grace period began (a push uploads its blobs first and
// commits them afterwards: the grace period is how long it may take), or when the store holds
// it but the catalog never registered it (the server stopped between the two) and its body is
// older than the grace period.
//
// Safe while the hub serves, with one server or with replicas sharing a PostgreSQL catalog:
// the removal runs under the catalog's exclusive blob lock, a few dozen blobs per transaction
// so that requests are not held up behind a large collection; commits and upload
// registrations take it shared (Catalog::lock_blobs). An upload that was deduplicated against a blob that
// garbage collection then removed fails in register_upload, so a registered blob always has
// its stored copy.
#include <cstdint>

#include "lightvault/hub/storage/blob_store.h"
#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/util/status.h"

namespace lv::hub {

inline constexpr int64_t kDefaultGcGraceSeconds = 24 * 3600;
inline constexpr int64_t kMaxGcGraceSeconds = int64_t{100} * 366 * 24 * 3600;  // a century

struct GcOptions {
  int64_t grace_seconds = kDefaultGcGraceSeconds;  // 0 .. kMaxGcGraceSeconds
  bool dry_run = false;  // count what would be removed, remove nothing
  int64_t now = 0;       // unix seconds; 0 = the current time
};

struct GcStats {
  uint64_t blobs = 0;         // removed (dry run: would be)
  uint64_t bytes = 0;         // their plaintext bytes
  uint64_t unregistered = 0;  // of `blobs`, stored copies the catalog did not know
};

// Removes every garbage blob from the catalog and the blob store.
Result<GcStats> collect_garbage(Catalog& catalog, BlobStore& blobs, const GcOptions& options);

// Registers a blob that `blobs` has just committed (BlobWriter::commit) in the catalog, as
// uploaded by `user_id` to the repository `repo_id` (which may then reference it), as part of
// the caller's transaction when there is one. Fails, registering nothing, when garbage
// collection removed the stored copy meanwhile (the upload was deduplicated against it): the
// client uploads again.
Result<BlobRef> register_upload(Catalog& catalog, const BlobStore& blobs, const BlobInfo& info, int64_t repo_id,
                                int64_t user_id);

}  // namespace lv::hub
