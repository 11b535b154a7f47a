// Project::store_capfilt_batch: what one batch of a CapFilt run writes, in one transaction, so a
// run killed at any point leaves whole batches and a re-run neither duplicates nor loses work.

#include <cstdio>
#include <string>

#include "db/project.h"
#include "db/project_impl.h"

namespace capfilt::db {

using internal::Connection;
using internal::WriteTransaction;

namespace {

std::string rule_name(const CapfiltBatch& batch) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "filter#%lld itm<%g", static_cast<long long>(batch.filter_id),
                batch.threshold);
  return buf;
}

// The id of the synthetic caption `text` of the image, inserting it when new.
Result<int64_t> synthetic_caption(Connection& c, int64_t image_id, const std::string& text,
                                  int64_t model_id, CapfiltBatchCounts& counts) {
  auto insert = c.prepare(
      "INSERT OR IGNORE INTO captions(image_id, text, source, model_id) "
      "VALUES (?1, ?2, 'synthetic', ?3)");
  if (!insert) return insert.status();
  insert->bind_i64(1, image_id).bind_text(2, text).bind_i64(3, model_id);
  if (Status s = c.run(insert.value(), "storing a synthetic caption"); !s) return s;
  counts.captions_added += sqlite3_changes(c.handle());
  insert = internal::Stmt();
  auto find = c.prepare(
      "SELECT id FROM captions WHERE image_id = ?1 AND text = ?2 AND source = 'synthetic'");
  if (!find) return find.status();
  find->bind_i64(1, image_id).bind_text(2, text);
  if (find->step() != SQLITE_ROW) {
    return Status::not_found("image " + std::to_string(image_id) + " does not exist");
  }
  return find->i64(0);
}

// The decision in force of a caption: its origin, curator and value ("" when undecided), and the
// caption's source.
struct InForce {
  std::string source, origin, curator, decision;
};

Result<InForce> in_force(Connection& c, int64_t caption_id) {
  auto stmt = c.prepare(
      "SELECT c.source, d.origin, d.curator, d.decision FROM captions c LEFT JOIN decisions d "
      "ON d.id = (SELECT max(x.id) FROM decisions x WHERE x.caption_id = c.id AND NOT EXISTS "
      "(SELECT 1 FROM decision_undos u WHERE u.decision_id = x.id)) WHERE c.id = ?1");
  if (!stmt) return stmt.status();
  stmt->bind_i64(1, caption_id);
  if (stmt->step() != SQLITE_ROW) {
    return Status::not_found("caption " + std::to_string(caption_id) + " does not exist");
  }
  InForce f{stmt->text(0), stmt->is_null(1) ? "" : stmt->text(1),
            stmt->is_null(2) ? "" : stmt->text(2), stmt->is_null(3) ? "" : stmt->text(3)};
  return f;
}

}  // namespace

Result<int64_t> Project::find_or_add_model(const ModelRecord& model) {
  Connection& c = *impl_->connection;
  int64_t id = 0;
  {
    WriteTransaction txn(c);
    if (Status s = txn.begin(); !s) return s;
    auto find = c.prepare("SELECT id FROM models WHERE checkpoint_path = ?1 ORDER BY id LIMIT 1");
    if (!find) return find.status();
    find->bind_text(1, model.checkpoint_path);
    if (find->step() == SQLITE_ROW) return find->i64(0);  // rolls back the empty transaction
    find = internal::Stmt();
    auto added = add_model(model);  // inside this transaction: no other writer in between
    if (!added) return added.status();
    id = added.value();
    if (Status s = txn.commit(); !s) return s;
  }
  return id;
}

namespace internal {

Status store_capfilt_images(Connection& c, const CapfiltBatch& batch, int64_t now_ms,
                            const std::string& project_path, CapfiltBatchCounts& counts) {
  const std::string rule = rule_name(batch);
  std::vector<DecisionInput> decisions;
  for (const CapfiltImageResult& image : batch.images) {
    std::vector<int64_t> synthetic_ids;
    for (const std::string& text : image.synthetic) {
      auto id = synthetic_caption(c, image.image_id, text, batch.captioner_id, counts);
      if (!id) return id.status();
      synthetic_ids.push_back(id.value());
    }
    for (const CapfiltCaptionScore& score : image.scores) {
      int64_t caption_id = score.caption_id;
      if (caption_id == 0) {
        if (score.synthetic_index < 0 ||
            score.synthetic_index >= static_cast<int>(synthetic_ids.size())) {
          return Status::invalid("CapFilt batch: a score names no caption");
        }
        caption_id = synthetic_ids[static_cast<size_t>(score.synthetic_index)];
      }
      if (Status s =
              upsert_score(c, {caption_id, batch.filter_id, score.itm, score.itc}, project_path);
          !s) {
        return s;
      }
      ++counts.scores_written;
      auto current = in_force(c, caption_id);
      if (!current) return current.status();
      if (current->source == "human") continue;
      if (current->origin == "curator") {
        ++counts.kept_by_curator;
        continue;
      }
      const Decision proposal = score.itm < batch.threshold ? Decision::kDrop : Decision::kKeep;
      if (current->curator == rule && current->decision == to_string(proposal)) continue;
      char reason[96];
      std::snprintf(reason, sizeof reason, "ITM %.3f %s threshold %g", score.itm,
                    proposal == Decision::kDrop ? "below" : "at or above", batch.threshold);
      decisions.push_back({caption_id, proposal, DecisionOrigin::kAuto, rule, reason});
    }
  }
  if (Status s = append_decisions(c, decisions, now_ms); !s) return s;
  counts.decisions_written += static_cast<int64_t>(decisions.size());
  return Status::ok();
}

}  // namespace internal

Result<CapfiltBatchCounts> Project::store_capfilt_batch(const CapfiltBatch& batch) {
  Connection& c = *impl_->connection;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  CapfiltBatchCounts counts;
  if (Status s = internal::store_capfilt_images(c, batch, impl_->clock->now_ms(), path_, counts);
      !s) {
    return s;
  }
  if (Status s = txn.commit(); !s) return s;
  return counts;
}

}  // namespace capfilt::db
