#include "lightvault/hub/blob_gc.h"

#include <algorithm>
#include <string>
#include <vector>

namespace lv::hub {

namespace {

// Removal holds the blob lock (on SQLite: the catalog) and fsyncs a directory per blob: a few
// dozen at a time, so that requests are not held up behind a large collection.
constexpr size_t kBlobsPerTransaction = 64;

struct Candidate {
  std::string owner, sha256;
  uint64_t size = 0;
  bool registered = false;  // in the catalog (unreferenced), or a stored copy it never knew
};

}  // namespace

Result<GcStats> collect_garbage(Catalog& catalog, BlobStore& blobs, const GcOptions& options) {
  const int64_t cutoff = (options.now ? options.now : now_unix()) - options.grace_seconds;

  // Listing the store decrypts every .meta: do it before taking the lock, then check again
  // under the lock that each candidate is still garbage.
  std::vector<Candidate> candidates;
  LV_ASSIGN_OR_RETURN(std::vector<BlobRef> unreferenced, catalog.unreferenced_blobs(cutoff));
  for (const BlobRef& r : unreferenced) candidates.push_back({r.owner, r.sha256, r.size, true});
  LV_RETURN_IF_ERROR(blobs.list([&](const BlobInfo& b) -> Status {
    if (b.stored_at > cutoff) return Status::Ok();
    LV_ASSIGN_OR_RETURN(auto ref, catalog.find_blob(b.owner, b.sha256));
    if (!ref) candidates.push_back({b.owner, b.sha256, b.size, false});
    return Status::Ok();
  }));

  GcStats stats;
  if (options.dry_run) {
    for (const Candidate& c : candidates) {
      stats.blobs++;
      stats.bytes += c.size;
      stats.unregistered += !c.registered;
    }
    return stats;
  }
  for (size_t first = 0; first < candidates.size(); first += kBlobsPerTransaction) {
    const size_t last = std::min(candidates.size(), first + kBlobsPerTransaction);
    GcStats batch;
    Status st = catalog.transaction([&]() -> Status {
      batch = {};
      LV_RETURN_IF_ERROR(catalog.lock_blobs(BlobLock::kExclusive));
      for (size_t i = first; i < last; ++i) {
        const Candidate& c = candidates[i];
        if (c.registered) {
          LV_ASSIGN_OR_RETURN(bool deleted, catalog.delete_unreferenced_blob(c.owner, c.sha256, cutoff));
          if (!deleted) continue;  // referenced or uploaded again meanwhile
          LV_RETURN_IF_ERROR(blobs.remove(c.owner, c.sha256));
        } else {
          LV_ASSIGN_OR_RETURN(auto ref, catalog.find_blob(c.owner, c.sha256));
          if (ref) continue;  // an upload registered it meanwhile
          LV_ASSIGN_OR_RETURN(bool removed, blobs.remove(c.owner, c.sha256));
          if (!removed) continue;
          batch.unregistered++;
        }
        batch.blobs++;
        batch.bytes += c.size;
      }
      return Status::Ok();
    });
    if (!st.ok()) return st.error();
    stats.blobs += batch.blobs;
    stats.bytes += batch.bytes;
    stats.unregistered += batch.unregistered;
  }
  return stats;
}

Result<BlobRef> register_upload(Catalog& catalog, const BlobStore& blobs, const BlobInfo& info) {
  BlobRef ref;
  Status st = catalog.transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(ref, catalog.put_blob({info.owner, info.sha256, info.size, info.storage_id}));
    // put_blob holds the blob lock now: garbage collection has either finished or not begun.
    LV_ASSIGN_OR_RETURN(auto stored, blobs.stat(info.owner, info.sha256));
    if (!stored) {
      return Error{"blob " + info.owner + "/" + info.sha256 +
                   " was garbage-collected while its upload finished; upload it again"};
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return ref;
}

}  // namespace lv::hub
