#include "core/capfilt_run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "core/batch_loader.h"
#include "core/image_locator.h"

namespace capfilt::core {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One image that still needs work, and what.
struct ImageWork {
  int64_t image_id = 0;
  std::string path;  // as stored in the project
  std::string file;  // resolved on disk
  bool needs_captions = false;
  struct Caption {
    int64_t id = 0;
    db::CaptionSource source = db::CaptionSource::kWeb;
    std::string text;
  };
  std::vector<Caption> to_score;  // existing captions without a score
};

bool in_shard(int64_t image_id, const CapfiltRunOptions& o) {
  return o.shard_count <= 1 || image_id % o.shard_count == o.shard_index;
}

db::PairFilter scope_filter(const CapfiltRunOptions& options, const CapfiltModels& models) {
  db::PairFilter filter;
  filter.split = options.split;
  filter.score_model_id = models.filter_id;
  return filter;
}

// Walks the pairs of the scope grouped by image (pairs come ordered by image path).
Status for_each_image(db::Project& project, const CapfiltRunOptions& options,
                      const CapfiltModels& models,
                      const std::function<Status(const std::vector<db::PairRow>&)>& visit) {
  std::vector<db::PairRow> rows;
  Status s = project.for_each_pair(scope_filter(options, models), [&](const db::PairRow& row) {
    if (!in_shard(row.image_id, options)) return Status::ok();
    if (!rows.empty() && rows.front().image_id != row.image_id) {
      if (Status v = visit(rows); !v) return v;
      rows.clear();
    }
    rows.push_back(row);
    return Status::ok();
  });
  if (!s) return s;
  return rows.empty() ? Status::ok() : visit(rows);
}

Result<std::vector<ImageWork>> collect_work(db::Project& project, const CapfiltModels& models,
                                            const CapfiltRunOptions& options,
                                            CapfiltReport& report) {
  auto locator = ImageLocator::for_project(project);
  if (!locator) return locator.status();
  std::unordered_set<int64_t> in_results;  // images a resumed results file holds already
  if (options.results != nullptr) {
    auto ids = options.results->image_ids();
    if (!ids) return ids.status();
    in_results.insert(ids->begin(), ids->end());
  }
  std::vector<ImageWork> work;
  Status s = for_each_image(project, options, models, [&](const std::vector<db::PairRow>& rows) {
    ++report.images_in_scope;
    if (in_results.count(rows.front().image_id) != 0) {
      ++report.images_already_done;
      return Status::ok();
    }
    ImageWork w;
    w.image_id = rows.front().image_id;
    w.path = rows.front().image.path;
    bool captioned = false;
    for (const auto& row : rows) {
      if (row.caption.source == db::CaptionSource::kSynthetic &&
          row.caption.model_id == models.captioner_id) {
        captioned = true;
      }
      if (!row.itm) w.to_score.push_back({row.caption_id, row.caption.source, row.caption.text});
    }
    w.needs_captions = !captioned;
    if (!w.needs_captions && w.to_score.empty()) {
      ++report.images_already_done;
      return Status::ok();
    }
    auto file = locator->find(w.path);
    if (!file) {
      report.failures.push_back({w.path, file.status().message()});
      return Status::ok();
    }
    w.file = file.value();
    work.push_back(std::move(w));
    return Status::ok();
  });
  if (!s) return s;
  return work;
}

// Runs the models over one batch of decoded images and builds what the store writes.
class BatchRunner {
 public:
  BatchRunner(const CapfiltModels& models, const CapfiltRunOptions& options, CapfiltReport& report)
      : models_(models), options_(options), report_(report) {}

  Result<db::CapfiltBatch> run(const std::vector<const ImageWork*>& images,
                               const std::vector<std::vector<float>>& pixels) {
    auto start = Clock::now();
    auto encoded = models_.captioner->encode_pixels(pixels);
    if (!encoded) return encoded.status();
    report_.encode_seconds += since(start);

    db::CapfiltBatch batch;
    batch.captioner_id = models_.captioner_id;
    batch.filter_id = models_.filter_id;
    batch.threshold = options_.threshold;
    for (const ImageWork* w : images) batch.images.push_back({w->image_id, w->path, {}, {}});
    if (Status s = caption(images, encoded.value(), batch); !s) return s;

    start = Clock::now();
    Result<EncodedImages> for_filter = filter_images(images, std::move(encoded.value()));
    if (!for_filter) return for_filter.status();
    if (Status s = score(images, for_filter.value(), batch); !s) return s;
    report_.score_seconds += since(start);
    return batch;
  }

 private:
  Status caption(const std::vector<const ImageWork*>& images, const EncodedImages& encoded,
                 db::CapfiltBatch& batch) {
    std::vector<int64_t> rows;
    for (size_t i = 0; i < images.size(); ++i) {
      if (images[i]->needs_captions) rows.push_back(static_cast<int64_t>(i));
    }
    if (rows.empty()) return Status::ok();
    const auto start = Clock::now();
    const EncodedImages* to_caption = &encoded;
    Result<EncodedImages> subset = Status::invalid("unused");
    if (rows.size() != images.size()) {  // a resumed image that has its captions already
      subset = models_.captioner->select(encoded, rows);
      if (!subset) return subset.status();
      to_caption = &subset.value();
    }
    CaptionOptions o = options_.caption;
    // Each image samples from its own seed: resumed, sharded and re-batched runs write the same.
    for (int64_t row : rows) {
      o.image_seeds.push_back(options_.caption.seed * 1000003u +
                              static_cast<uint64_t>(images[static_cast<size_t>(row)]->image_id));
    }
    auto captions = models_.captioner->caption(*to_caption, o);
    if (!captions) return captions.status();
    for (size_t k = 0; k < rows.size(); ++k) {
      auto& synthetic = batch.images[static_cast<size_t>(rows[k])].synthetic;
      for (const auto& c : captions.value()[k]) {
        // Nucleus samples of one image may coincide; the store keeps one caption per text.
        if (!c.text.empty() && std::find(synthetic.begin(), synthetic.end(), c.text) ==
                                   synthetic.end()) {
          synthetic.push_back(c.text);
        }
      }
    }
    report_.caption_seconds += since(start);
    return Status::ok();
  }

  // The filter's encoding: the captioner's when one engine is both, else its own.
  Result<EncodedImages> filter_images(const std::vector<const ImageWork*>& images,
                                      EncodedImages&& captioner_encoding) {
    if (models_.filter == models_.captioner) return std::move(captioner_encoding);
    std::vector<std::string> files;
    for (const ImageWork* w : images) files.push_back(w->file);
    return models_.filter->encode_files(files);
  }

  Status score(const std::vector<const ImageWork*>& images, const EncodedImages& encoded,
               db::CapfiltBatch& batch) {
    std::vector<ImageText> pairs;
    std::vector<db::CapfiltCaptionScore> targets;
    for (size_t i = 0; i < images.size(); ++i) {
      for (const auto& caption : images[i]->to_score) {
        pairs.push_back({static_cast<int64_t>(i), caption.text});
        targets.push_back({caption.id, -1, 0, 0, caption.source, caption.text});
      }
      const auto& synthetic = batch.images[i].synthetic;
      for (size_t k = 0; k < synthetic.size(); ++k) {
        pairs.push_back({static_cast<int64_t>(i), synthetic[k]});
        targets.push_back({0, static_cast<int>(k), 0, 0});
      }
    }
    if (pairs.empty()) return Status::ok();
    auto scores = models_.filter->score(encoded, pairs);
    if (!scores) return scores.status();
    for (size_t p = 0; p < pairs.size(); ++p) {
      targets[p].itm = scores.value()[p].itm;
      targets[p].itc = std::isnan(scores.value()[p].itc) ? 0.0 : scores.value()[p].itc;
      batch.images[static_cast<size_t>(pairs[p].image)].scores.push_back(targets[p]);
    }
    return Status::ok();
  }

  const CapfiltModels& models_;
  const CapfiltRunOptions& options_;
  CapfiltReport& report_;
};

void add(db::CapfiltBatchCounts& total, const db::CapfiltBatchCounts& c) {
  total.captions_added += c.captions_added;
  total.scores_written += c.scores_written;
  total.decisions_written += c.decisions_written;
  total.kept_by_curator += c.kept_by_curator;
}

// A batch into the project, or into the results file (counting what it holds: captions and
// scores; the decisions are proposed there and made by the merge).
Result<db::CapfiltBatchCounts> store(db::Project& project, const CapfiltRunOptions& options,
                                     const db::CapfiltBatch& batch) {
  if (options.results == nullptr) return project.store_capfilt_batch(batch);
  if (Status s = options.results->append(batch); !s) return s;
  db::CapfiltBatchCounts counts;
  for (const auto& image : batch.images) {
    counts.captions_added += static_cast<int64_t>(image.synthetic.size());
    counts.scores_written += static_cast<int64_t>(image.scores.size());
  }
  return counts;
}

// What the filter says about the captions a results file scored (its own synthetic ones count
// as the captioner's).
Result<CapfiltOutcome> results_outcome(db::CapfiltResultsFile& results,
                                       const CapfiltRunOptions& options) {
  CapfiltOutcome out;
  Status s = results.for_each_image([&](const db::CapfiltImageResult& image) {
    for (const auto& score : image.scores) {
      const bool below = score.itm < options.threshold;
      if (score.caption_id == 0) {
        ++out.synthetic_scored;
        out.synthetic_below += below;
      } else if (score.source == db::CaptionSource::kWeb) {
        ++out.web_scored;
        out.web_below += below;
      }
    }
    return Status::ok();
  });
  if (!s) return s;
  return out;
}

Status record_job_end(db::Project& project, int64_t job_id, const CapfiltReport& r) {
  if (job_id == 0) return Status::ok();
  const double rate = r.seconds > 0 ? r.images_processed / r.seconds : 0;
  std::vector<db::JobMetric> metrics = {
      {0, "web_drop_share", r.outcome.web_drop_share()},
      {0, "synthetic_noise_ratio", r.outcome.synthetic_noise_ratio()},
      {0, "images_processed", static_cast<double>(r.images_processed)},
      {0, "images_failed", static_cast<double>(r.failures.size())},
      {0, "captions_added", static_cast<double>(r.counts.captions_added)},
      {0, "decisions_written", static_cast<double>(r.counts.decisions_written)},
      {0, "images_per_s", rate}};
  if (Status s = project.add_job_metrics(job_id, metrics); !s) return s;
  return project.update_job(job_id, r.cancelled ? db::JobStatus::kCancelled
                                                : db::JobStatus::kSucceeded,
                            ::getpid(), r.cancelled ? 0.0 : 1.0);
}

}  // namespace

Status parse_shard(const std::string& spec, int* index, int* count) {
  int i = -1, n = -1;
  char tail = 0;
  if (std::sscanf(spec.c_str(), "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 0 || i >= n) {
    return Status::invalid("shard '" + spec +
                           "' is not I/N with 0 <= I < N (e.g. 0/2 and 1/2 for two processes)");
  }
  *index = i;
  *count = n;
  return Status::ok();
}

Status validate(const CapfiltRunOptions& o) {
  if (!(o.threshold >= 0.0 && o.threshold <= 1.0)) {
    return Status::invalid("threshold " + std::to_string(o.threshold) +
                           " is outside [0, 1] (it is an ITM match probability)");
  }
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count) {
    return Status::invalid("shard " + std::to_string(o.shard_index) + "/" +
                           std::to_string(o.shard_count) + " is not I/N with 0 <= I < N");
  }
  if (o.batch_images < 1) return Status::invalid("batch must hold at least one image");
  if (o.caption.num_captions < 1) return Status::invalid("at least one caption per image");
  return Status::ok();
}

Status validate(const CapfiltRunOptions& o, const CapfiltModels& m) {
  if (Status s = validate(o); !s) return s;
  if (m.captioner == nullptr || m.filter == nullptr) return Status::invalid("no models given");
  if (!m.captioner->info().can_caption) {
    return Status::invalid(m.captioner->info().path + " cannot be the captioner: it is a " +
                           m.captioner->info().kind + " without an image-grounded decoder");
  }
  if (!m.filter->info().can_match) {
    return Status::invalid(m.filter->info().path + " cannot be the filter: it is a " +
                           m.filter->info().kind + " without an ITM head");
  }
  const bool registered = m.captioner_id > 0 && m.filter_id > 0;
  const bool named = m.captioner_id != 0 && m.filter_id != 0;  // -1: unknown to a project copy
  if (o.results != nullptr ? !named : !registered) {
    return Status::invalid("the models must be registered in the project first");
  }
  return Status::ok();
}

Result<CapfiltOutcome> capfilt_outcome(db::Project& project, const CapfiltModels& models,
                                       const CapfiltRunOptions& options) {
  CapfiltOutcome out;
  Status s = for_each_image(project, options, models, [&](const std::vector<db::PairRow>& rows) {
    for (const auto& row : rows) {
      if (!row.itm) continue;
      const bool below = *row.itm < options.threshold;
      if (row.caption.source == db::CaptionSource::kWeb) {
        ++out.web_scored;
        out.web_below += below;
      } else if (row.caption.source == db::CaptionSource::kSynthetic &&
                 row.caption.model_id == models.captioner_id) {
        ++out.synthetic_scored;
        out.synthetic_below += below;
      }
    }
    return Status::ok();
  });
  if (!s) return s;
  return out;
}

Result<CapfiltReport> run_capfilt(db::Project& project, const CapfiltModels& models,
                                  const CapfiltRunOptions& options,
                                  const CapfiltCallbacks& callbacks) {
  if (Status s = validate(options, models); !s) return s;
  const auto start = Clock::now();
  CapfiltReport report;
  auto work = collect_work(project, models, options, report);
  if (!work) return work.status();
  // A results file cut short by --max-images is not finished: the rest of its shard is missing.
  bool whole_scope = true;
  if (options.max_images > 0 && static_cast<int64_t>(work->size()) > options.max_images) {
    whole_scope = false;
    work->resize(static_cast<size_t>(options.max_images));
  }

  std::vector<std::string> files;
  for (const auto& w : work.value()) files.push_back(w.file);
  LoaderOptions lo;
  lo.image_size = models.captioner->info().image_size;
  lo.workers = std::max(1, options.loader_workers);
  lo.prefetch = std::max(lo.workers, 3 * options.batch_images);
  lo.shuffle = false;
  lo.delivery = Delivery::kInOrder;  // the same batches on every uninterrupted run
  BatchLoader loader(files, lo);

  CapfiltProgress progress;
  progress.images_total = static_cast<int64_t>(work->size());
  if (callbacks.started) callbacks.started(progress.images_total);
  BatchRunner runner(models, options, report);
  while (!(callbacks.cancelled && callbacks.cancelled())) {
    auto wait_start = Clock::now();
    std::vector<LoadedSample> failed;
    std::vector<LoadedSample> samples =
        loader.next_batch(static_cast<size_t>(options.batch_images), &failed);
    report.wait_seconds += since(wait_start);
    for (const auto& f : failed) {
      report.failures.push_back({(*work)[f.index].path, f.status.message()});
    }
    progress.images_done += static_cast<int64_t>(failed.size());
    progress.images_failed += static_cast<int64_t>(failed.size());
    if (samples.empty()) {
      if (failed.empty()) break;
      continue;
    }
    std::vector<const ImageWork*> images;
    std::vector<std::vector<float>> pixels;
    for (auto& sample : samples) {
      images.push_back(&(*work)[sample.index]);
      pixels.push_back(std::move(sample.pixels));
    }
    auto batch = runner.run(images, pixels);
    if (!batch) return batch.status();
    const auto store_start = Clock::now();
    auto counts = store(project, options, batch.value());
    if (!counts) return counts.status();
    report.store_seconds += since(store_start);
    add(report.counts, counts.value());
    report.images_processed += static_cast<int64_t>(images.size());
    progress.images_done += static_cast<int64_t>(images.size());
    progress.seconds = since(start);
    if (options.job_id != 0 && progress.images_total > 0) {
      project.update_job(options.job_id, db::JobStatus::kRunning, ::getpid(),
                         double(progress.images_done) / double(progress.images_total));
    }
    if (callbacks.progress) callbacks.progress(progress);
  }
  report.cancelled = progress.images_done < progress.images_total;
  auto outcome = options.results != nullptr ? results_outcome(*options.results, options)
                                            : capfilt_outcome(project, models, options);
  if (!outcome) return outcome.status();
  report.outcome = outcome.value();
  if (options.results != nullptr && !report.cancelled && whole_scope) {
    const auto failed = static_cast<int64_t>(report.failures.size());
    if (Status s = options.results->finish(failed); !s) return s;
  }
  report.seconds = since(start);
  if (Status s = record_job_end(project, options.job_id, report); !s) return s;
  return report;
}

}  // namespace capfilt::core
