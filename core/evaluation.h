#pragma once
// Evaluations of a model on labelled data, as `capfilt eval` runs them: the filter's drop
// decisions against noise labels (from the scores a CapFilt run stored in a project), image-text
// retrieval (ITC alone and BLIP's ITC→ITM re-ranking), captioning (BLEU-4, CIDEr-D) and VQA
// accuracy. The metrics themselves are core/eval_metrics.h.
//
// Torch-free. The model is reached through EvalModel, an interface BlipEngine provides
// (engine_eval_model) and tests fake, so the orchestration is testable without a model.
// Everything runs on the calling thread; a Project must not be used by another thread meanwhile.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/blip_engine.h"
#include "core/eval_metrics.h"
#include "db/project.h"
#include "db/status.h"

namespace capfilt::core {

// ---- Filter quality against noise labels
// ---------------------------------------------------------

// One labelled caption. Labels name a caption by id, or by image path (as stored in the project,
// relative to the dataset root) and text.
struct NoiseLabel {
  int64_t caption_id = 0;  // 0: match by image and caption
  std::string image;
  std::string caption;
  bool noisy = false;
  std::string kind;  // noise kind ("other_image", "wrong_attribute", …; "none" when clean)
};

// Reads ground-truth/noise_labels.json as core/demo_data.cpp writes it ({"captions": [{"image",
// "caption", "noisy", "noise_kind"}]}), or a CSV whose header names `noisy` (0/1, true/false)
// and either `caption_id` or `image` and `caption` (optional `noise_kind`). kNotFound / kInvalid
// naming the file, and the line or record, otherwise.
Result<std::vector<NoiseLabel>> read_noise_labels(const std::string& path);

struct FilterEvalOptions {
  int64_t model_id = 0;    // the filter whose stored scores are judged (required)
  double threshold = 0.5;  // the drop rule: ITM below it (BLIP's filter: the ITM head says no)
};

// The figures of one noise kind (and "none": the clean captions).
struct NoiseKindFigures {
  std::string kind;
  int64_t labelled = 0;
  int64_t in_project = 0;  // found in the project
  int64_t scored = 0;      // of those, scored by the model
  int64_t dropped = 0;     // scored with ITM below the threshold
  double mean_itm = 0;     // over the scored ones
  double auc_itm = 0;      // this kind against the clean captions (NaN for "none" or no data)
  double auc_itc = 0;
};

struct FilterEvaluation {
  int64_t model_id = 0;
  double threshold = 0;
  int64_t labels = 0;
  int64_t in_project = 0;
  int64_t scored = 0;               // the labelled captions the figures below are computed on
  int64_t noisy = 0;                // of the scored ones
  eval::BinaryCounts at_threshold;  // positive = noisy / drop
  double auc_itm = 0;               // ROC-AUC of the ITM score (low ITM = noisy); NaN if undefined
  double auc_itc = 0;               // same for ITC (NaN when the model has no ITC scores)
  eval::ThresholdChoice best_itm;   // the ITM threshold maximising F1
  eval::ThresholdChoice best_itc;
  int64_t decided = 0;                  // labelled captions with a current keep/drop decision
  eval::BinaryCounts decisions;         // those decisions (drop = positive) against the labels
  std::vector<NoiseKindFigures> kinds;  // sorted by kind, "none" included
};

// Reads the model's scores of the labelled captions from the project and judges them. kNotFound
// when the model is not in the project; kInvalid when it has scored none of the labelled captions.
Result<FilterEvaluation> evaluate_filter(db::Project& project,
                                         const std::vector<NoiseLabel>& labels,
                                         const FilterEvalOptions& options);

// ---- The model, as the evaluations need it ----------------------------------------------------

// Image paths are absolute (or relative to the working directory). Implementations may batch;
// the evaluations call with at most `batch_size` images per call. A failure (an undecodable image,
// a model without the needed head) is returned as is.
class EvalModel {
 public:
  virtual ~EvalModel() = default;
  // L2-normalised ITC embeddings, one per image / text.
  virtual Result<std::vector<std::vector<float>>> image_embeddings(
      const std::vector<std::string>& images) const = 0;
  virtual Result<std::vector<std::vector<float>>> text_embeddings(
      const std::vector<std::string>& texts) const = 0;
  // ITM match probability of each pair; pairs[k].image indexes `images`.
  virtual Result<std::vector<double>> match(const std::vector<std::string>& images,
                                            const std::vector<ImageText>& pairs) const = 0;
  // One caption per image.
  virtual Result<std::vector<std::string>> caption(
      const std::vector<std::string>& images) const = 0;
  // The answer to each question about `image`.
  virtual Result<std::vector<std::string>> answer(
      const std::string& image, const std::vector<std::string>& questions) const = 0;
};

// BlipEngine as an EvalModel. `engine` must outlive the result. Captions use `caption_options`
// (BLIP's evaluation: beam search, 3 beams, max 20 tokens, min 5); answers are generated with
// `answer_options`, or ranked among `answer_candidates` when that list is not empty.
std::unique_ptr<EvalModel> engine_eval_model(const BlipEngine& engine,
                                             const CaptionOptions& caption_options,
                                             const CaptionOptions& answer_options,
                                             std::vector<std::string> answer_candidates = {});

// ---- Labelled images ---------------------------------------------------------------------------

// An image with its reference captions.
struct LabelledImage {
  std::string image;  // absolute path, or relative to the working directory
  std::vector<std::string> captions;
};

// BLIP/COCO-style annotations: [{"image": path, "caption": text or [texts]}] (the demo data's
// test.json); entries of one image are merged; paths are resolved against the file's folder.
Result<std::vector<LabelledImage>> read_labelled_images(const std::string& path);

// The images of a project split with their captions of the given sources (all when empty), in
// path order. Paths are resolved against `image_root` when given, else against the dataset roots
// the project's imports recorded (core/image_locator.h; kNotFound for an image found under none).
// kInvalid when the split has no captioned image.
Result<std::vector<LabelledImage>> project_labelled_images(
    db::Project& project, const std::string& split, const std::string& image_root,
    const std::vector<db::CaptionSource>& sources);

// The same, with the ids of the images and captions (for views that open a pair): `ids[i]` is
// data[i]'s image id and `caption_ids[i][j]` the id of data[i].captions[j].
struct LabelledProjectImages {
  std::vector<LabelledImage> data;
  std::vector<int64_t> image_ids;
  std::vector<std::string> image_paths;  // as stored
  std::vector<std::vector<int64_t>> caption_ids;
};
Result<LabelledProjectImages> project_labelled_images_with_ids(
    db::Project& project, const std::string& split, const std::string& image_root,
    const std::vector<db::CaptionSource>& sources);

struct EvalRunOptions {
  int batch_size = 16;  // images per model call
  // Called after each batch with (done, total) in the evaluation's unit; may be empty.
  std::function<void(int64_t done, int64_t total)> progress;
  // Polled after each batch; true stops the evaluation with kCancelled. May be empty.
  std::function<bool()> cancelled;
};

// ---- Embeddings, as the retrieval evaluation and the explorer's index compute them -----------

// ITC embeddings of `images`, batch_size per model call, and of `texts`, 16 × batch_size per call
// (texts are cheap next to images). `after_batch(done)` is called after each call; returning false
// stops with kCancelled. A model answer of the wrong length is kInvalid.
using BatchCallback = std::function<bool(int64_t done)>;
Result<std::vector<std::vector<float>>> embed_images(const EvalModel& model,
                                                     const std::vector<std::string>& images,
                                                     int batch_size,
                                                     const BatchCallback& after_batch = {});
Result<std::vector<std::vector<float>>> embed_texts(const EvalModel& model,
                                                    const std::vector<std::string>& texts,
                                                    int batch_size,
                                                    const BatchCallback& after_batch = {});

// ITM of (image, text) index pairs through model.match, at most batch_size distinct images per
// call (pairs sorted by image share a call): how the re-ranking scores its candidates, in the
// evaluation and in the explorer. `after_batch(scored)` as above. `images` and `texts` must
// outlive the scorer.
eval::PairScorer match_scorer(const EvalModel& model, const std::vector<std::string>& images,
                              const std::vector<std::string>& texts, int batch_size,
                              BatchCallback after_batch = {});

// ---- Retrieval
// -----------------------------------------------------------------------------------

struct RetrievalEvaluation {
  int64_t images = 0;
  int64_t texts = 0;
  int k = 0;
  int64_t pairs_scored = 0;  // ITM evaluations the re-ranking needed
  eval::RetrievalRecall itc;
  eval::RetrievalRecall itc_itm;
};

// The scores R@K is computed from: ITC of every image and text, and the ITC→ITM re-ranked
// matrices (core/eval_metrics.h), with the image of each text.
struct RetrievalScores {
  std::vector<int64_t> text_image;
  eval::ScoreMatrix itc;
  eval::RerankedScores reranked;
};
// From embeddings already computed (`images`, `texts` name the files and captions ITM needs).
Result<RetrievalScores> score_retrieval(const EvalModel& model,
                                        const std::vector<std::string>& images,
                                        const std::vector<std::string>& texts,
                                        const std::vector<int64_t>& text_image,
                                        const std::vector<std::vector<float>>& image_embeddings,
                                        const std::vector<std::vector<float>>& text_embeddings,
                                        int k, const EvalRunOptions& options = {});
// R@1/5/10 of the scores (ITC alone and re-ranked).
Result<RetrievalEvaluation> summarize_retrieval(const RetrievalScores& scores, int k);

// ITC similarities of every image and text, R@1/5/10 both ways with ITC alone and with the top k
// re-ranked by ITM (BLIP's COCO setting: k = 128): embed_images/embed_texts, score_retrieval,
// summarize_retrieval.
Result<RetrievalEvaluation> evaluate_retrieval(const EvalModel& model,
                                               const std::vector<LabelledImage>& data, int k,
                                               const EvalRunOptions& options = {});

// ---- Captioning
// ----------------------------------------------------------------------------------

struct CaptionEvaluation {
  int64_t images = 0;
  eval::BleuScore bleu;
  eval::CiderScore cider;
  std::vector<std::string> captions;  // the model's, one per image in data order
};
Result<CaptionEvaluation> evaluate_captions(const EvalModel& model,
                                            const std::vector<LabelledImage>& data,
                                            const EvalRunOptions& options = {});

// ---- VQA
// -----------------------------------------------------------------------------------------

struct VqaQuestion {
  int64_t question_id = 0;
  std::string image;  // resolved path
  std::string question;
  std::vector<std::string> answers;  // the annotators'
  std::string kind;  // question type ("count", "colour", …; VQA v2's answer_type), may be empty
};

// [{"question_id", "image", "question", "answer": text or [texts], "kind"|"answer_type"}] (the
// demo data's vqa_test.json, BLIP's VQA layout); paths resolved against the file's folder.
Result<std::vector<VqaQuestion>> read_vqa_questions(const std::string& path);

struct VqaEvaluation {
  int64_t questions = 0;
  double accuracy = 0;                    // mean VQA accuracy, in [0, 1]
  std::map<std::string, double> by_kind;  // mean per question kind
  std::map<std::string, int64_t> kind_counts;
  std::vector<std::string> answers;  // the model's, in question order
};
Result<VqaEvaluation> evaluate_vqa(const EvalModel& model,
                                   const std::vector<VqaQuestion>& questions,
                                   const EvalRunOptions& options = {});

// ---- Results as JSON and text
// ---------------------------------------------------------------------

// One JSON object per evaluation (NaN written as null); the same object goes into the model's
// metrics in the project under "eval_<kind>" (see store_model_metrics).
std::string to_json(const FilterEvaluation& e);
std::string to_json(const RetrievalEvaluation& e);
std::string to_json(const CaptionEvaluation& e);
std::string to_json(const VqaEvaluation& e);
// Human-readable reports, several lines each.
std::string to_text(const FilterEvaluation& e);
std::string to_text(const RetrievalEvaluation& e);
std::string to_text(const CaptionEvaluation& e);
std::string to_text(const VqaEvaluation& e);

// Sets `key` of the model's metrics object to the JSON `value`, keeping its other keys (a model's
// metrics gather every evaluation of it). kNotFound for an unknown model; kInvalid for bad JSON.
Status store_model_metrics(db::Project& project, int64_t model_id, const std::string& key,
                           const std::string& value_json);

}  // namespace capfilt::core
