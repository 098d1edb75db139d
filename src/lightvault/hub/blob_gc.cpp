#include "lightvault/hub/blob_gc.h"

#include <vector>

namespace lv::hub {

Result<GcStats> collect_garbage(Catalog& catalog, BlobStore& blobs, const GcOptions& options) {
  const int64_t cutoff = (options.now ? options.now : now_unix()) - options.grace_seconds;

  // Listing the store decrypts every .meta: do it before taking the lock, then check again
  // under the lock that each candidate is still garbage.
  std::vector<BlobInfo> unregistered;
  LV_RETURN_IF_ERROR(blobs.list([&](const BlobInfo& b) -> Status {
    if (b.stored_at > cutoff) return Status::Ok();
    LV_ASSIGN_OR_RETURN(auto ref, catalog.find_blob(b.owner, b.sha256));
    if (!ref) unregistered.push_back(b);
    return Status::Ok();
  }));
  LV_ASSIGN_OR_RETURN(std::vector<BlobRef> unreferenced, catalog.unreferenced_blobs(cutoff));

  GcStats stats;
  if (options.dry_run) {
    for (const BlobRef& r : unreferenced) stats.bytes += r.size;
    for (const BlobInfo& b : unregistered) stats.bytes += b.size;
    stats.unregistered = unregistered.size();
    stats.blobs = unreferenced.size() + unregistered.size();
    return stats;
  }
  Status st = catalog.transaction([&]() -> Status {
    LV_RETURN_IF_ERROR(catalog.lock_blobs(BlobLock::kExclusive));
    for (const BlobRef& r : unreferenced) {
      LV_ASSIGN_OR_RETURN(bool deleted, catalog.delete_unreferenced_blob(r.owner, r.sha256, cutoff));
      if (!deleted) continue;
      LV_RETURN_IF_ERROR(blobs.remove(r.owner, r.sha256));
      stats.blobs++;
      stats.bytes += r.size;
    }
    for (const BlobInfo& b : unregistered) {
      LV_ASSIGN_OR_RETURN(auto ref, catalog.find_blob(b.owner, b.sha256));
      if (ref) continue;  // an upload registered it meanwhile
      LV_ASSIGN_OR_RETURN(bool removed, blobs.remove(b.owner, b.sha256));
      if (!removed) continue;
      stats.blobs++;
      stats.unregistered++;
      stats.bytes += b.size;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
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
