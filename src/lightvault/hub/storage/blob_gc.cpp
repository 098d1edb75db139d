#include "lightvault/hub/storage/blob_gc.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
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

void count(const Candidate& c, GcStats& stats) {
  stats.blobs++;
  stats.bytes += c.size;
  stats.unregistered += !c.registered;
}

// Removes one candidate if it is still garbage; false when it is not (any more).
Result<bool> remove_if_garbage(Catalog& catalog, BlobStore& blobs, const Candidate& c, int64_t cutoff) {
  if (c.registered) {
    LV_ASSIGN_OR_RETURN(bool deleted, catalog.delete_unreferenced_blob(c.owner, c.sha256, cutoff));
    if (!deleted) return false;  // referenced or uploaded again meanwhile
    LV_RETURN_IF_ERROR(blobs.remove(c.owner, c.sha256));
    return true;
  }
  LV_ASSIGN_OR_RETURN(auto ref, catalog.find_blob(c.owner, c.sha256));
  if (ref) return false;  // an upload registered it meanwhile
  return blobs.remove(c.owner, c.sha256);
}

}  // namespace

Result<GcStats> collect_garbage(Catalog& catalog, BlobStore& blobs, const GcOptions& options) {
  const int64_t cutoff = (options.now ? options.now : now_unix()) - options.grace_seconds;

  // Listing the store decrypts every .meta: do it before taking the lock, then check again
  // under the lock that each candidate is still garbage.
  std::vector<Candidate> candidates;
  LV_ASSIGN_OR_RETURN(std::vector<BlobRef> unreferenced, catalog.unreferenced_blobs(cutoff));
  for (const BlobRef& r : unreferenced) candidates.push_back({r.owner, r.sha256, r.size, true});
  std::set<std::pair<std::string, std::string>> registered;
  LV_ASSIGN_OR_RETURN(std::vector<BlobRef> all, catalog.list_blobs());
  for (const BlobRef& r : all) registered.emplace(r.owner, r.sha256);
  LV_RETURN_IF_ERROR(blobs.list([&](const BlobInfo& b) -> Status {
    if (b.stored_at <= cutoff && !registered.count({b.owner, b.sha256})) {
      candidates.push_back({b.owner, b.sha256, b.size, false});
    }
    return Status::Ok();
  }));

  GcStats stats;
  if (options.dry_run) {
    for (const Candidate& c : candidates) count(c, stats);
    return stats;
  }
  for (size_t first = 0; first < candidates.size(); first += kBlobsPerTransaction) {
    const size_t last = std::min(candidates.size(), first + kBlobsPerTransaction);
    std::vector<const Candidate*> removed;
    Status st = catalog.transaction([&]() -> Status {
      removed.clear();
      LV_RETURN_IF_ERROR(catalog.lock_blobs(BlobLock::kExclusive));
      for (size_t i = first; i < last; ++i) {
        LV_ASSIGN_OR_RETURN(bool gone, remove_if_garbage(catalog, blobs, candidates[i], cutoff));
        if (gone) removed.push_back(&candidates[i]);
      }
      return Status::Ok();
    });
    if (!st.ok()) return st.error();
    for (const Candidate* c : removed) count(*c, stats);
  }
  return stats;
}

Result<BlobRef> register_upload(Catalog& catalog, const BlobStore& blobs, const BlobInfo& info, int64_t repo_id,
                                int64_t user_id) {
  BlobRef ref;
  Status st = catalog.transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(ref, catalog.put_blob({info.owner, info.sha256, info.size, info.storage_id}));
    // put_blob holds the blob lock now: garbage collection has either finished or not begun.
    LV_ASSIGN_OR_RETURN(auto stored, blobs.stat(info.owner, info.sha256));
    if (!stored) {
      return Error{"blob " + info.owner + "/" + info.sha256 +
                   " was garbage-collected while its upload finished; upload it again"};
    }
    return catalog.record_upload(repo_id, user_id, info.sha256);
  });
  if (!st.ok()) return st.error();
  return ref;
}

}  // namespace lv::hub
