#pragma once
// The retrieval explorer's model work, off the GUI thread: one worker thread loads the chosen model
// (core::BlipEngine), opens or builds its embedding index beside the project (with progress,
// cancellable), answers text → image and image → text queries (ITC top k, re-ranked by ITM), and
// evaluates a labelled split. Requests run one at a time in order; answers come back as signals
// on the GUI thread. The worker opens its own connection to the project.
//
// GUI thread. The destructor cancels the running request and waits for it.

#include <QObject>
#include <QString>
#include <QThreadPool>

#include <atomic>
#include <memory>
#include <vector>

#include "core/embedding_index.h"
#include "core/retrieval_explorer.h"

namespace capfilt::ui {

class RetrievalSession : public QObject {
  Q_OBJECT

 public:
  struct Options {
    QString project_path;
    QString images_root;  // the project's image paths are relative to it (the document's)
    QString vocab_path;   // vocab.txt for the model's tokenizer
    QString device = "cpu";  // the GPU, if any, belongs to jobs
    int batch_size = 16;     // images per model call, as `capfilt eval --batch`
    int search_threads = 2;
  };
  // A query, as the view shows it.
  struct Query {
    int request = 0;
    bool text_to_image = true;
    QString text;              // text → image: the query text
    qint64 caption_row = -1;   // text → image: the caption it is, when it is one of the project's
    qint64 image_row = -1;     // image → text: the image
    int k = 64;
  };
  struct SplitResult {
    core::SplitRetrieval retrieval;
    core::LabelledProjectImages data;
    QString split;
  };

  explicit RetrievalSession(const Options& options, QObject* parent = nullptr);
  ~RetrievalSession() override;

  // Loads the model and its index; modelOpened or failed follow. Earlier requests still run.
  void openModel(qint64 model_id, const QString& model_path);
  // Returns the request number `answered` will carry.
  int search(Query query);
  void evaluateSplit(const QString& split, const std::vector<db::CaptionSource>& sources, int k);
  // Stops the running request (an index build between batches) and the queued ones.
  void cancel();
  bool busy() const { return pending_ > 0; }
  void waitForDone() { pool_.waitForDone(); }

  // The indexed images and captions (GUI thread); null until a model is open.
  std::shared_ptr<const core::ProjectItems> items() const { return items_; }
  qint64 modelId() const { return model_id_; }
  // The file of an image row, as the model reads it.
  static std::string imageFile(const QString& images_root, const std::string& stored_path);

 Q_SIGNALS:
  void progress(qint64 done, qint64 total, const QString& what);
  void modelOpened(const QString& message);
  void answered(const Query& query, const core::RetrievalAnswer& answer);
  void evaluated(const SplitResult& result);
  void failed(const QString& message);
  // True when the first request is queued, false when the last one has finished.
  void busyChanged(bool busy);

 private:
  struct State;
  // Runs `work` on the worker; `deliver` (on the GUI thread) receives its outcome.
  void run(std::function<void(State&, const std::function<bool()>& cancelled)> work);
  template <typename F>
  void toGui(F f);

  Options options_;
  std::shared_ptr<State> state_;  // the worker's; touched only by tasks on pool_
  std::shared_ptr<std::atomic<int>> cancelled_below_;  // requests below it are cancelled
  int next_task_ = 0;
  int next_request_ = 0;
  int pending_ = 0;
  qint64 model_id_ = 0;
  std::shared_ptr<const core::ProjectItems> items_;
  QThreadPool pool_;
};

}  // namespace capfilt::ui
