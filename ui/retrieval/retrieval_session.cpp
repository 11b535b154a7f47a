#include "ui/retrieval/retrieval_session.h"

#include <QPointer>

#include <filesystem>

#include "core/blip_engine.h"
#include "core/image_locator.h"

namespace capfilt::ui {

namespace fs = std::filesystem;

// The worker's state: written and read only by tasks on the session's one-thread pool.
struct RetrievalSession::State {
  std::unique_ptr<core::BlipEngine> engine;
  std::unique_ptr<core::EvalModel> model;  // over `engine`
  std::shared_ptr<const core::EmbeddingIndex> index;
  std::shared_ptr<const core::ProjectItems> items;
  std::vector<std::string> files;  // per image row
};

RetrievalSession::RetrievalSession(const Options& options, QObject* parent)
    : QObject(parent),
      options_(options),
      state_(std::make_shared<State>()),
      cancelled_below_(std::make_shared<std::atomic<int>>(0)) {
  pool_.setMaxThreadCount(1);  // requests in order, and the state needs no lock
  pool_.setExpiryTimeout(-1);
}

RetrievalSession::~RetrievalSession() {
  cancel();
  pool_.clear();
  pool_.waitForDone();
}

std::string RetrievalSession::imageFile(const QString& images_root, const std::string& stored_path) {
  const fs::path p(stored_path);
  if (p.is_absolute() || images_root.isEmpty()) return stored_path;
  // As core::project_labelled_images resolves it, so the model reads the files eval reads.
  return (fs::path(images_root.toStdString()) / p).lexically_normal().string();
}

template <typename F>
void RetrievalSession::toGui(F f) {
  QMetaObject::invokeMethod(this, std::move(f), Qt::QueuedConnection);
}

void RetrievalSession::run(std::function<void(State&, const std::function<bool()>&)> work) {
  const int task = next_task_++;
  if (pending_++ == 0) Q_EMIT busyChanged(true);
  auto state = state_;
  auto below = cancelled_below_;
  QPointer<RetrievalSession> self(this);
  // The destructor waits for the pool, so `this` outlives every task; queued calls to a
  // destroyed session are dropped by Qt.
  pool_.start([this, self, state, below, task, work = std::move(work)] {
    auto cancelled = [below, task] { return task < below->load(); };
    if (!cancelled()) {
      work(*state, cancelled);
    } else {
      toGui([this] { Q_EMIT failed(tr("Cancelled.")); });
    }
    toGui([self] {
      if (self && --self->pending_ == 0) Q_EMIT self->busyChanged(false);
    });
  });
}

void RetrievalSession::cancel() { cancelled_below_->store(next_task_); }

namespace {

// The model, refused when it cannot both embed (ITC) and match (ITM).
Result<std::unique_ptr<core::BlipEngine>> open_engine(const RetrievalSession::Options& o,
                                                      const std::string& path) {
  core::EngineOptions eo;
  eo.model_path = path;
  eo.vocab_path = o.vocab_path.toStdString();
  eo.device = o.device.toStdString();
  auto engine = core::BlipEngine::open(eo);
  if (!engine) return engine.status();
  if (!engine.value()->info().can_embed || !engine.value()->info().can_match) {
    return Status::unsupported(path + ": this model has no ITC projections or no ITM head; "
                                      "choose a filter or a pre-trained model");
  }
  return engine;
}

// The project's images and captions, and the file of each image as the model reads it.
struct Snapshot {
  core::ProjectItems items;
  std::vector<std::string> files;
};
Result<Snapshot> read_snapshot(const RetrievalSession::Options& o) {
  db::OpenOptions po;
  po.create_if_missing = false;
  auto project = db::Project::open(o.project_path.toStdString(), po);
  if (!project) return project.status();
  auto items = core::read_project_items(*project.value());
  if (!items) return items.status();
  Snapshot out{std::move(items).value(), {}};
  core::ImageLocator locator;
  if (o.images_root.isEmpty()) {
    auto found = core::ImageLocator::for_project(*project.value());
    if (found) locator = std::move(found).value();
  }
  for (const auto& p : out.items.image_paths) {
    if (!o.images_root.isEmpty()) {
      out.files.push_back(RetrievalSession::imageFile(o.images_root, p));
    } else {
      auto located = locator.find(p);
      out.files.push_back(located ? located.value() : p);
    }
  }
  return out;
}

}  // namespace

void RetrievalSession::openModel(qint64 model_id, const QString& model_path) {
  const Options o = options_;
  run([this, o, model_id, path = model_path.toStdString()](State& s, const auto& cancelled) {
    s.index.reset();
    s.model.reset();
    s.engine.reset();
    auto fail = [&](const Status& why) {
      s.model.reset();
      s.engine.reset();
      toGui([this, why = QString::fromStdString(why.message())] { Q_EMIT failed(why); });
    };
    auto engine = open_engine(o, path);
    if (!engine) return fail(engine.status());
    auto snapshot = read_snapshot(o);
    if (!snapshot) return fail(snapshot.status());
    auto stamp = core::model_stamp(path);
    if (!stamp) return fail(stamp.status());
    const core::IndexHeader header{model_id, stamp.value(), core::fingerprint(snapshot->items)};
    s.engine = std::move(engine).value();
    s.model = core::engine_eval_model(*s.engine, core::beam_caption_defaults(),
                                      core::beam_caption_defaults());
    core::IndexBuildOptions bo;
    bo.batch_size = o.batch_size;
    bo.cancelled = cancelled;
    bo.progress = [this](int64_t done, int64_t total) {
      toGui([this, done, total] { Q_EMIT progress(done, total, tr("Embedding images and captions")); });
    };
    auto opened = core::open_or_build_embedding_index(
        core::embedding_index_path(o.project_path.toStdString(), model_id), *s.model,
        snapshot->items, snapshot->files, header, bo);
    if (!opened) return fail(opened.status());
    auto items = std::make_shared<const core::ProjectItems>(std::move(snapshot->items));
    s.items = items;
    s.files = std::move(snapshot->files);
    s.index = std::make_shared<const core::EmbeddingIndex>(std::move(opened->index));
    const qint64 images = s.index->images.rows, texts = s.index->texts.rows;
    const QString message =
        opened->reused ? tr("Index of %L1 images and %L2 captions loaded").arg(images).arg(texts)
                       : tr("Index of %L1 images and %L2 captions built (%3)")
                             .arg(images)
                             .arg(texts)
                             .arg(QString::fromStdString(opened->rebuilt_because));
    toGui([this, items, model_id, message] {
      items_ = items;
      model_id_ = model_id;
      Q_EMIT modelOpened(message);
    });
  });
}

int RetrievalSession::search(Query query) {
  query.request = ++next_request_;
  const Options o = options_;
  run([this, o, query](State& s, const auto&) {
    auto fail = [&](const std::string& why) {
      toGui([this, why = QString::fromStdString(why)] { Q_EMIT failed(why); });
    };
    if (!s.index) return fail("Choose a model with ITC and ITM first (its index is not ready).");
    core::QueryOptions qo;
    qo.k = query.k;
    qo.batch_size = o.batch_size;
    qo.threads = o.search_threads;
    Result<core::RetrievalAnswer> answer = Status::invalid("no query");
    if (query.text_to_image) {
      std::vector<float> embedding;
      std::string text = query.text.toStdString();
      if (query.caption_row >= 0 && query.caption_row < s.index->texts.rows) {
        // A caption of the project: its indexed embedding, as the evaluation uses it.
        const float* row = s.index->texts.row(query.caption_row);
        embedding.assign(row, row + s.index->texts.dim);
        text = s.items->caption_texts[static_cast<size_t>(query.caption_row)];
      } else {
        auto e = s.model->text_embeddings({text});
        if (!e) return fail(e.status().message());
        embedding = e->front();
      }
      answer = core::images_for_text(*s.model, *s.index, s.files, text, embedding, qo);
    } else {
      if (query.image_row < 0 || query.image_row >= s.index->images.rows)
        return fail("That image is not in the index.");
      const float* row = s.index->images.row(query.image_row);
      answer = core::texts_for_image(*s.model, *s.index, s.items->caption_texts,
                                     s.files[static_cast<size_t>(query.image_row)],
                                     std::vector<float>(row, row + s.index->images.dim), qo);
    }
    if (!answer) return fail(answer.status().message());
    toGui([this, query, a = std::move(answer).value()] { Q_EMIT answered(query, a); });
  });
  return query.request;
}

void RetrievalSession::evaluateSplit(const QString& split,
                                     const std::vector<db::CaptionSource>& sources, int k) {
  const Options o = options_;
  run([this, o, split, sources, k](State& s, const auto& cancelled) {
    auto fail = [&](const std::string& why) {
      toGui([this, why = QString::fromStdString(why)] { Q_EMIT failed(why); });
    };
    if (!s.index) return fail("Choose a model with ITC and ITM first (its index is not ready).");
    db::OpenOptions po;
    po.create_if_missing = false;
    auto project = db::Project::open(o.project_path.toStdString(), po);
    if (!project) return fail(project.status().message());
    auto data = core::project_labelled_images_with_ids(*project.value(), split.toStdString(),
                                                       o.images_root.toStdString(), sources);
    if (!data) return fail(data.status().message());
    core::EvalRunOptions run;
    run.batch_size = o.batch_size;
    run.progress = [this](int64_t done, int64_t total) {
      toGui([this, done, total] { Q_EMIT progress(done, total, tr("Re-ranking by ITM")); });
    };
    run.cancelled = cancelled;
    auto result = core::evaluate_split(*s.model, *s.index, *s.items, data.value(), k, run);
    if (!result) return fail(result.status().message());
    SplitResult out{std::move(result).value(), std::move(data).value(), split};
    toGui([this, out = std::move(out)] { Q_EMIT evaluated(out); });
  });
}

}  // namespace capfilt::ui
