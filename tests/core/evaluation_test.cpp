// The evaluation orchestration: the filter against noise labels from a project's stored scores,
// and retrieval / captioning / VQA over a fake model (no Torch), each against hand computations.

#include "core/evaluation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "test_paths.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Scratch {
 public:
  Scratch() {
    fs::create_directories(test::kScratchDir);
    std::string pattern = test::kScratchDir + "/eval-XXXXXX";
    path_ = ::mkdtemp(pattern.data());
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }

 private:
  std::string path_;
};

db::CaptionRecord web(const std::string& text) {
  return {text, db::CaptionSource::kWeb, 0};
}

// ---- Filter ------------------------------------------------------------------------------------

// Five web captions scored by filter 1 (ITM, ITC):
//   a "a red circle"       clean            0.9  0.40
//   b "a blue square"      clean            0.7  0.30
//   c "photo by admin"     web_text         0.2  0.10
//   d "a green star"       wrong_attribute  0.6  0.35
//   e "a yellow triangle"  clean            0.4  0.20
// plus g "a white square" (clean) scored only by model 2, a synthetic "a red circle" on a scored
// 0.1 (the label names the web one), and a label for an empty caption the project never stored.
class FilterEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = db::Project::open(scratch_.file("p.capfilt"));
    ASSERT_TRUE(p) << p.status().message();
    project_ = std::move(p).value();
    std::vector<db::ImageWithCaptions> batch = {
        {{"a.png", 0, 0, 0, "", "train"},
         {web("a red circle"), {"a red circle", db::CaptionSource::kSynthetic, 0}}},
        {{"b.png", 0, 0, 0, "", "train"}, {web("a blue square")}},
        {{"c.png", 0, 0, 0, "", "train"}, {web("photo by admin")}},
        {{"d.png", 0, 0, 0, "", "train"}, {web("a green star")}},
        {{"e.png", 0, 0, 0, "", "train"}, {web("a yellow triangle")}},
        {{"g.png", 0, 0, 0, "", "train"}, {web("a white square")}}};
    ASSERT_TRUE(project_->insert_pairs(batch));
    db::ModelRecord filter;
    filter.name = "filter";
    filter.task = "filter";
    filter.metrics_json = R"({"train":{"loss":0.1}})";
    model_ = project_->add_model(filter).value();
    db::ModelRecord other;
    other.name = "other";
    other_ = project_->add_model(other).value();
    ASSERT_TRUE(project_->for_each_pair({}, [&](const db::PairRow& r) {
      ids_[r.image.path + (r.caption.source == db::CaptionSource::kSynthetic ? "+syn" : "")] =
          r.caption_id;
      return Status::ok();
    }));
    ASSERT_TRUE(project_->put_scores({{ids_["a.png"], model_, 0.9, 0.40},
                                      {ids_["a.png+syn"], model_, 0.1, 0.05},
                                      {ids_["b.png"], model_, 0.7, 0.30},
                                      {ids_["c.png"], model_, 0.2, 0.10},
                                      {ids_["d.png"], model_, 0.6, 0.35},
                                      {ids_["e.png"], model_, 0.4, 0.20},
                                      {ids_["g.png"], other_, 0.5, 0.5}}));
    labels_ = {{0, "a.png", "a red circle", false, "none"},
               {0, "b.png", "a blue square", false, "none"},
               {0, "c.png", "photo by admin", true, "web_text"},
               {0, "d.png", "a green star", true, "wrong_attribute"},
               {0, "e.png", "a yellow triangle", false, "none"},
               {0, "f.png", "", true, "empty"},
               {0, "g.png", "a white square", false, "none"}};
  }

  Scratch scratch_;
  std::unique_ptr<db::Project> project_;
  int64_t model_ = 0, other_ = 0;
  std::map<std::string, int64_t> ids_;
  std::vector<NoiseLabel> labels_;
};

TEST_F(FilterEvalTest, FiguresByHand) {
  ASSERT_TRUE(project_->decide(
      {{ids_["c.png"], db::Decision::kDrop, db::DecisionOrigin::kCurator, "ann", ""},
       {ids_["a.png"], db::Decision::kKeep, db::DecisionOrigin::kCurator, "ann", ""}}));
  auto e = evaluate_filter(*project_, labels_, {model_, 0.5});
  ASSERT_TRUE(e) << e.status().message();
  EXPECT_EQ(e->labels, 7);
  EXPECT_EQ(e->in_project, 6);  // the empty caption was never stored
  EXPECT_EQ(e->scored, 5);      // g is scored by the other model only
  EXPECT_EQ(e->noisy, 2);
  // ITM < 0.5 drops c (noisy) and e (clean), keeps d (noisy): tp 1, fp 1, fn 1, tn 2.
  EXPECT_EQ(e->at_threshold.true_positive, 1);
  EXPECT_EQ(e->at_threshold.false_positive, 1);
  EXPECT_EQ(e->at_threshold.false_negative, 1);
  EXPECT_EQ(e->at_threshold.true_negative, 2);
  EXPECT_DOUBLE_EQ(e->at_threshold.f1(), 0.5);
  // ITM: noisy 0.2 is below all three clean ones, 0.6 below two of them: 5/6.
  EXPECT_DOUBLE_EQ(e->auc_itm, 5.0 / 6);
  // ITC: noisy 0.10 below all three, 0.35 below one (0.40): 4/6.
  EXPECT_DOUBLE_EQ(e->auc_itc, 4.0 / 6);
  // Best ITM cut: drop up to 0.6 (tp 2, fp 1: F1 0.8), threshold halfway to 0.7.
  EXPECT_DOUBLE_EQ(e->best_itm.threshold, 0.65);
  EXPECT_NEAR(e->best_itm.counts.f1(), 0.8, 1e-12);
  // The curator's two decisions: c dropped (noisy), a kept (clean).
  EXPECT_EQ(e->decided, 2);
  EXPECT_EQ(e->decisions.true_positive, 1);
  EXPECT_EQ(e->decisions.true_negative, 1);

  std::map<std::string, NoiseKindFigures> kinds;
  for (const auto& k : e->kinds) kinds[k.kind] = k;
  ASSERT_EQ(kinds.size(), 4u);
  EXPECT_EQ(kinds["empty"].labelled, 1);
  EXPECT_EQ(kinds["empty"].in_project, 0);
  EXPECT_EQ(kinds["none"].labelled, 4);
  EXPECT_EQ(kinds["none"].scored, 3);
  EXPECT_EQ(kinds["none"].dropped, 1);
  EXPECT_NEAR(kinds["none"].mean_itm, (0.9 + 0.7 + 0.4) / 3, 1e-12);
  EXPECT_TRUE(std::isnan(kinds["none"].auc_itm));
  EXPECT_EQ(kinds["web_text"].dropped, 1);
  EXPECT_DOUBLE_EQ(kinds["web_text"].auc_itm, 1.0);
  EXPECT_DOUBLE_EQ(kinds["wrong_attribute"].auc_itm, 2.0 / 3);

  // JSON for --out and the project: NaN as null, every figure there.
  const json j = json::parse(to_json(e.value()));
  EXPECT_EQ(j["at_threshold"]["f1"], 0.5);
  EXPECT_TRUE(j["by_kind"]["none"]["auc_itm"].is_null());
  EXPECT_EQ(j["by_kind"]["empty"]["in_project"], 0);
  EXPECT_FALSE(to_text(e.value()).empty());
}

TEST_F(FilterEvalTest, StoresMetricsBesideTheModelsOthers) {
  auto e = evaluate_filter(*project_, labels_, {model_, 0.5});
  ASSERT_TRUE(e);
  ASSERT_TRUE(store_model_metrics(*project_, model_, "eval_filter", to_json(e.value())));
  const json metrics = json::parse(project_->model(model_).value().metrics_json);
  EXPECT_EQ(metrics["train"]["loss"], 0.1);
  EXPECT_EQ(metrics["eval_filter"]["scored"], 5);
  EXPECT_FALSE(store_model_metrics(*project_, 999, "eval_filter", "{}"));
}

TEST_F(FilterEvalTest, RefusesUnknownOrUnscoringModels) {
  auto unknown = evaluate_filter(*project_, labels_, {999, 0.5});
  EXPECT_FALSE(unknown);
  db::ModelRecord fresh;
  fresh.name = "fresh";
  const int64_t id = project_->add_model(fresh).value();
  auto none = evaluate_filter(*project_, labels_, {id, 0.5});
  ASSERT_FALSE(none);
  EXPECT_NE(none.status().message().find("scored none"), std::string::npos)
      << none.status().message();
}

TEST_F(FilterEvalTest, ReadsDemoJsonAndCsvLabels) {
  const std::string demo =
      scratch_.write("noise_labels.json", json{{"generator", {{"seed", 1}}},
                                               {"captions",
                                                {{{"image", "c.png"},
                                                  {"caption", "photo by admin"},
                                                  {"noisy", true},
                                                  {"noise_kind", "web_text"},
                                                  {"clean_caption", "a red star"}},
                                                 {{"image", "a.png"},
                                                  {"caption", "a red circle"},
                                                  {"noisy", false},
                                                  {"noise_kind", "none"},
                                                  {"clean_caption", "a red circle"}}}}}
                                              .dump());
  auto from_json = read_noise_labels(demo);
  ASSERT_TRUE(from_json) << from_json.status().message();
  ASSERT_EQ(from_json->size(), 2u);
  EXPECT_EQ((*from_json)[0].kind, "web_text");
  EXPECT_TRUE((*from_json)[0].noisy);

  const std::string by_id =
      scratch_.write("ids.csv", "caption_id,noisy,noise_kind\n" + std::to_string(ids_["c.png"]) +
                                    ",1,web_text\n" + std::to_string(ids_["e.png"]) + ",0,\n");
  auto ids = read_noise_labels(by_id);
  ASSERT_TRUE(ids) << ids.status().message();
  auto e = evaluate_filter(*project_, ids.value(), {model_, 0.5});
  ASSERT_TRUE(e) << e.status().message();
  EXPECT_EQ(e->scored, 2);
  EXPECT_EQ(e->at_threshold.true_positive, 1);   // c
  EXPECT_EQ(e->at_threshold.false_positive, 1);  // e

  const std::string by_text = scratch_.write(
      "pairs.csv",
      "image,caption,noisy\r\nd.png,\"a green star\",1\r\n\"b.png\",a blue square,0\r\n");
  auto pairs = read_noise_labels(by_text);
  ASSERT_TRUE(pairs) << pairs.status().message();
  auto e2 = evaluate_filter(*project_, pairs.value(), {model_, 0.5});
  ASSERT_TRUE(e2);
  EXPECT_EQ(e2->scored, 2);
  EXPECT_EQ(e2->at_threshold.false_negative, 1);  // d kept at 0.6

  EXPECT_EQ(read_noise_labels(scratch_.file("missing.json")).status().code(),
            Status::Code::kNotFound);
  auto bad = read_noise_labels(scratch_.write("bad.csv", "image,caption,noisy\na.png,x,maybe\n"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("bad.csv record 2"), std::string::npos);
  EXPECT_FALSE(read_noise_labels(scratch_.write("nohead.csv", "path,text\na,b\n")));
}

// ---- A fake model
// ---------------------------------------------------------------------------------

// Image ".../img<k>.png" and text "shape <k> ..." belong together. ITC is misleading: a text of
// image k has similarity 0.6 with image k and 0.8 with image k+1 (mod n). ITM knows the truth.
class FakeModel final : public EvalModel {
 public:
  explicit FakeModel(int n) : n_(n) {}
  static int image_index(const std::string& path) {
    const auto stem = fs::path(path).stem().string();  // img<k>
    return std::stoi(stem.substr(3));
  }
  static int text_index(const std::string& text) { return std::stoi(text.substr(6)); }

  Result<std::vector<std::vector<float>>> image_embeddings(
      const std::vector<std::string>& images) const override {
    max_batch = std::max(max_batch, images.size());
    std::vector<std::vector<float>> out;
    for (const auto& p : images) {
      std::vector<float> v(static_cast<size_t>(n_), 0.f);
      v[static_cast<size_t>(image_index(p))] = 1.f;
      out.push_back(v);
    }
    return out;
  }
  Result<std::vector<std::vector<float>>> text_embeddings(
      const std::vector<std::string>& texts) const override {
    std::vector<std::vector<float>> out;
    for (const auto& t : texts) {
      std::vector<float> v(static_cast<size_t>(n_), 0.f);
      const int k = text_index(t);
      v[static_cast<size_t>(k)] = 0.6f;
      v[static_cast<size_t>((k + 1) % n_)] = 0.8f;
      out.push_back(v);
    }
    return out;
  }
  Result<std::vector<double>> match(const std::vector<std::string>& images,
                                    const std::vector<ImageText>& pairs) const override {
    max_batch = std::max(max_batch, images.size());
    std::vector<double> out;
    for (const auto& p : pairs) {
      out.push_back(image_index(images[static_cast<size_t>(p.image)]) == text_index(p.text) ? 1.0
                                                                                            : 0.0);
    }
    pairs_matched += pairs.size();
    return out;
  }
  Result<std::vector<std::string>> caption(const std::vector<std::string>& images) const override {
    std::vector<std::string> out;
    for (const auto& p : images)
      out.push_back(image_index(p) % 2 ? "a blue square" : "a red circle");
    return out;
  }
  Result<std::vector<std::string>> answer(
      const std::string& image, const std::vector<std::string>& questions) const override {
    ++answer_calls;
    std::vector<std::string> out;
    for (const auto& q : questions) out.push_back(q.rfind("how many", 0) == 0 ? "Two" : "red");
    (void)image;
    return out;
  }

  mutable size_t max_batch = 0;
  mutable size_t pairs_matched = 0;
  mutable int answer_calls = 0;

 private:
  int n_;
};

std::vector<LabelledImage> four_images() {
  std::vector<LabelledImage> data;
  for (int k = 0; k < 4; ++k) {
    data.push_back({"/data/img" + std::to_string(k) + ".png", {"shape " + std::to_string(k)}});
  }
  data[0].captions.push_back("shape 0 again");
  return data;
}

TEST(ModelEvaluation, RetrievalItcAloneIsFooledItmRerankingIsNot) {
  // Every text's best ITC image is the next one: ITC R@1 = 0 both ways, R@5 = 1 (4 images, 5
  // texts). Re-ranked with k = 3 (image 1's top 3 holds image 0's two texts and its own), ITM
  // puts the right one first.
  FakeModel model(4);
  std::vector<std::pair<int64_t, int64_t>> seen;
  EvalRunOptions options;
  options.batch_size = 3;
  options.progress = [&](int64_t done, int64_t total) { seen.push_back({done, total}); };
  auto e = evaluate_retrieval(model, four_images(), 3, options);
  ASSERT_TRUE(e) << e.status().message();
  EXPECT_EQ(e->images, 4);
  EXPECT_EQ(e->texts, 5);
  EXPECT_DOUBLE_EQ(e->itc.image_to_text.r1, 0.0);
  EXPECT_DOUBLE_EQ(e->itc.text_to_image.r1, 0.0);
  EXPECT_DOUBLE_EQ(e->itc.image_to_text.r5, 1.0);
  EXPECT_DOUBLE_EQ(e->itc_itm.image_to_text.r1, 1.0);
  EXPECT_DOUBLE_EQ(e->itc_itm.text_to_image.r1, 1.0);
  EXPECT_EQ(static_cast<int64_t>(model.pairs_matched), e->pairs_scored);
  EXPECT_LE(model.max_batch, 3u);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().first, seen.back().second);
  const json j = json::parse(to_json(e.value()));
  EXPECT_EQ(j["itc_itm"]["text_to_image"]["r1"], 1.0);
  EXPECT_FALSE(to_text(e.value()).empty());
}

TEST(ModelEvaluation, CaptionsScoredWithBleuAndCider) {
  FakeModel model(4);
  std::vector<LabelledImage> data = {{"/d/img0.png", {"a red circle", "a big red circle"}},
                                     {"/d/img1.png", {"a blue square", "one blue square"}},
                                     {"/d/img2.png", {"a green star", "a star"}}};
  auto e = evaluate_captions(model, data, {2, {}});
  ASSERT_TRUE(e) << e.status().message();
  EXPECT_EQ(e->captions,
            (std::vector<std::string>{"a red circle", "a blue square", "a red circle"}));
  std::vector<eval::CaptionSample> samples;
  for (size_t i = 0; i < data.size(); ++i) {
    eval::CaptionSample s;
    s.candidate = eval::tokenize_caption(e->captions[i]);
    for (const auto& r : data[i].captions) s.references.push_back(eval::tokenize_caption(r));
    samples.push_back(s);
  }
  EXPECT_DOUBLE_EQ(e->bleu.bleu[3], eval::corpus_bleu(samples).bleu[3]);
  EXPECT_DOUBLE_EQ(e->cider.score, eval::cider_d(samples).score);
  // Image 2's "a red circle" against "a green star", "a star": only "a" matches, 1 of 3 words.
  EXPECT_GT(e->cider.per_sample[0], e->cider.per_sample[2]);
}

TEST(ModelEvaluation, VqaAccuracyPerKind) {
  // The fake answers "Two" to counting and "red" otherwise. Count questions: "2" (right, after
  // normalisation) and "3" (wrong); colour: "red" (right) and ten annotators of whom 2 said red
  // (0.6): overall (1 + 0 + 1 + 0.6) / 4 = 0.65.
  FakeModel model(4);
  std::vector<std::string> ten(10, "blue");
  ten[0] = ten[1] = "red";
  std::vector<VqaQuestion> qs = {{1, "/d/img0.png", "how many shapes?", {"2"}, "count"},
                                 {2, "/d/img1.png", "how many red shapes?", {"3"}, "count"},
                                 {3, "/d/img0.png", "what color is it?", {"red"}, "colour"},
                                 {4, "/d/img1.png", "what color is the star?", ten, "colour"}};
  auto e = evaluate_vqa(model, qs);
  ASSERT_TRUE(e) << e.status().message();
  EXPECT_EQ(model.answer_calls, 2);  // one call per image
  EXPECT_NEAR(e->accuracy, 0.65, 1e-12);
  EXPECT_NEAR(e->by_kind["count"], 0.5, 1e-12);
  EXPECT_NEAR(e->by_kind["colour"], 0.8, 1e-12);
  EXPECT_EQ(e->answers[0], "Two");
  EXPECT_EQ(json::parse(to_json(e.value()))["by_kind"]["colour"]["questions"], 2);
}

TEST(ModelEvaluation, ReadsAnnotationAndQuestionFiles) {
  Scratch scratch;
  const std::string test_json = scratch.write("test.json", R"([
    {"image": "images/a.png", "caption": ["a red circle", "a circle", " "]},
    {"image": "images/b.png", "caption": "a blue square"},
    {"image": "images/a.png", "caption": "red circle"}])");
  auto data = read_labelled_images(test_json);
  ASSERT_TRUE(data) << data.status().message();
  ASSERT_EQ(data->size(), 2u);
  EXPECT_EQ((*data)[0].image, scratch.file("images/a.png"));
  EXPECT_EQ((*data)[0].captions,
            (std::vector<std::string>{"a red circle", "a circle", "red circle"}));
  EXPECT_FALSE(read_labelled_images(scratch.write("bad.json", R"([{"caption": "x"}])")));

  const std::string vqa = scratch.write("vqa.json", R"([
    {"question_id": 7, "image": "images/a.png", "question": "how many?", "answer": ["1"], "kind": "count"},
    {"question_id": 8, "image": "/abs/b.png", "question": "what?", "answer": "red", "answer_type": "other"}])");
  auto qs = read_vqa_questions(vqa);
  ASSERT_TRUE(qs) << qs.status().message();
  ASSERT_EQ(qs->size(), 2u);
  EXPECT_EQ((*qs)[0].question_id, 7);
  EXPECT_EQ((*qs)[0].image, scratch.file("images/a.png"));
  EXPECT_EQ((*qs)[1].image, "/abs/b.png");
  EXPECT_EQ((*qs)[1].kind, "other");
  EXPECT_EQ((*qs)[1].answers, (std::vector<std::string>{"red"}));
  EXPECT_FALSE(
      read_vqa_questions(scratch.write("noanswer.json", R"([{"image": "a", "question": "q"}])")));
}

TEST(ModelEvaluation, ProjectSplitGivesImagesWithTheirCaptions) {
  Scratch scratch;
  auto project = db::Project::open(scratch.file("p.capfilt")).value();
  ASSERT_TRUE(project->insert_pairs({{{"img/x.png", 0, 0, 0, "", "test"}, {web("one"), web("two")}},
                                     {{"img/y.png", 0, 0, 0, "", "train"}, {web("three")}},
                                     {{"img/z.png", 0, 0, 0, "", "test"}, {web("four")}}}));
  auto data = project_labelled_images(*project, "test", "/root", {});
  ASSERT_TRUE(data) << data.status().message();
  ASSERT_EQ(data->size(), 2u);
  EXPECT_EQ((*data)[0].image, "/root/img/x.png");
  EXPECT_EQ((*data)[0].captions.size(), 2u);
  EXPECT_EQ((*data)[1].captions, (std::vector<std::string>{"four"}));
  EXPECT_FALSE(project_labelled_images(*project, "val", "/root", {}));
}

}  // namespace
}  // namespace capfilt::core
