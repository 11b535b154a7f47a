// Project::merge_capfilt_results: a CapFilt results file made from a copy of this project (see
// db/capfilt_results.h) stored as the run would have stored its batches, in one transaction.

#include <string>

#include "db/capfilt_results.h"
#include "db/project.h"
#include "db/project_impl.h"

namespace capfilt::db {

using internal::Connection;
using internal::WriteTransaction;

namespace {

std::string describe(const std::string& path, const std::string& config_json) {
  return path + " (config " + config_fingerprint(config_json) + ")";
}

Status other_models(const CapfiltResultsFile& file, const std::string& role,
                    const ModelRecord& made_with, const std::string& project_has) {
  return Status::invalid(
      "results file " + file.path() + " was made with another " + role +
      " than this project's: " + describe(made_with.checkpoint_path, made_with.config_json) +
      ", where the project has " + project_has +
      "; merge it into the project it was made from, or run CapFilt again with "
      "this project's models");
}

// The project's id of the model the file names: by its id in the project the run read when it had
// one, else by checkpoint path (registered now when the project does not know it). Either way the
// path and configuration must be the project's.
Result<int64_t> resolve_model(Connection& c, Project& project, const CapfiltResultsFile& file,
                              const std::string& role, const ModelRecord& made_with,
                              int64_t* registered) {
  auto stmt = made_with.id != 0
                  ? c.prepare("SELECT id, checkpoint_path, config_json FROM models WHERE id = ?1")
                  : c.prepare(
                        "SELECT id, checkpoint_path, config_json FROM models "
                        "WHERE checkpoint_path = ?1 ORDER BY id LIMIT 1");
  if (!stmt) return stmt.status();
  if (made_with.id != 0) {
    stmt->bind_i64(1, made_with.id);
  } else {
    stmt->bind_text(1, made_with.checkpoint_path);
  }
  const int rc = stmt->step();
  if (rc == SQLITE_ROW) {
    const int64_t id = stmt->i64(0);
    const std::string path = stmt->text(1), config = stmt->text(2);
    if (path != made_with.checkpoint_path || config != made_with.config_json) {
      return other_models(file, role, made_with,
                          "model #" + std::to_string(id) + " " + describe(path, config));
    }
    return id;
  }
  if (rc != SQLITE_DONE) return c.error("finding the " + role, rc);
  if (made_with.id != 0) {
    return other_models(file, role, made_with, "no model #" + std::to_string(made_with.id));
  }
  stmt = internal::Stmt();
  ModelRecord record = made_with;
  record.id = 0;
  auto added = project.add_model(record);  // inside the merge's transaction
  if (added) ++*registered;
  return added;
}

Result<int64_t> image_id(Connection& c, const CapfiltResultsFile& file, const std::string& path,
                         const std::string& project_path) {
  auto find = c.prepare("SELECT id FROM images WHERE path = ?1");
  if (!find) return find.status();
  find->bind_text(1, path);
  const int rc = find->step();
  if (rc == SQLITE_ROW) return find->i64(0);
  if (rc != SQLITE_DONE) return c.error("finding image " + path, rc);
  return Status::not_found("results file " + file.path() + " names image " + path +
                           ", which project " + project_path +
                           " does not have; nothing of the file was merged");
}

Result<int64_t> caption_id(Connection& c, const CapfiltResultsFile& file, int64_t image,
                           const std::string& image_path, const CapfiltCaptionScore& score,
                           const std::string& project_path) {
  auto find =
      c.prepare("SELECT id FROM captions WHERE image_id = ?1 AND text = ?2 AND source = ?3");
  if (!find) return find.status();
  find->bind_i64(1, image).bind_text(2, score.text).bind_text(3, to_string(score.source));
  const int rc = find->step();
  if (rc == SQLITE_ROW) return find->i64(0);
  if (rc != SQLITE_DONE) return c.error("finding a caption of " + image_path, rc);
  return Status::not_found("results file " + file.path() + " scores the " +
                           to_string(score.source) + " caption \"" + score.text + "\" of " +
                           image_path + ", which project " + project_path +
                           " does not have; nothing of the file was merged");
}

}  // namespace

Result<CapfiltMerge> Project::merge_capfilt_results(CapfiltResultsFile& file) {
  const CapfiltResultsHeader& header = file.header();
  auto own = uuid();
  if (!own) return own.status();
  if (header.project_uuid != own.value()) {
    return Status::invalid("results file " + file.path() + " was made from another project (" +
                           header.project_path + ", id " + header.project_uuid + ") than " + path_ +
                           " (id " + own.value() + "); merge it into the project it was made from");
  }
  Connection& c = *impl_->connection;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  CapfiltMerge merge;
  auto captioner =
      resolve_model(c, *this, file, "captioner", header.captioner, &merge.models_registered);
  if (!captioner) return captioner.status();
  auto filter = resolve_model(c, *this, file, "filter", header.filter, &merge.models_registered);
  if (!filter) return filter.status();
  merge.captioner_id = captioner.value();
  merge.filter_id = filter.value();

  const int64_t now = impl_->clock->now_ms();
  Status walked = file.for_each_image([&](const CapfiltImageResult& from_file) {
    CapfiltBatch batch;
    batch.captioner_id = merge.captioner_id;
    batch.filter_id = merge.filter_id;
    batch.threshold = header.threshold;
    CapfiltImageResult image = from_file;
    auto id = image_id(c, file, image.path, path_);
    if (!id) return id.status();
    image.image_id = id.value();
    for (CapfiltCaptionScore& score : image.scores) {
      if (score.caption_id == 0) continue;  // one of the file's synthetic captions
      auto caption = caption_id(c, file, image.image_id, image.path, score, path_);
      if (!caption) return caption.status();
      score.caption_id = caption.value();
    }
    batch.images.push_back(std::move(image));
    ++merge.images;
    return internal::store_capfilt_images(c, batch, now, path_, merge.counts);
  });
  if (!walked) return walked;
  if (Status s = txn.commit(); !s) return s;
  return merge;
}

}  // namespace capfilt::db
