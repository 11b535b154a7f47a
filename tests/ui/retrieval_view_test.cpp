// The retrieval explorer on a small demo project with a tiny BLIP (one training step, so its
// scores are arbitrary but fixed): its ITC and ITM columns equal what `capfilt eval retrieval`
// computes (core::evaluate_retrieval's steps over the same project), query by query; its R@1/5/10
// equal evaluate_retrieval's; the misses run their query when clicked; a click on a result asks the
// window to open that pair in the review; the index is reused the next time.

#include <QComboBox>
#include <QSignalSpy>
#include <QTableWidget>

#include <filesystem>

#include "core/blip_engine.h"
#include "core/demo_data.h"
#include "core/embedding_index.h"
#include "core/evaluation.h"
#include "core/importer.h"
#include "core/training_job.h"
#include "ui/retrieval/retrieval_view.h"
#include "ui/shared/project_document.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

namespace fs = std::filesystem;

const std::string kVocab = std::string(capfilt::test::kResourcesDir) + "/bert-base-uncased/vocab.txt";
constexpr int kK = 16;

class RetrievalViewTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(test::scratch("retrieval-view"));
    core::DemoDataOptions demo;
    demo.count = 30;
    demo.image_size = 32;
    demo.seed = 3;
    ASSERT_TRUE(core::generate_demo_data((*dir_ / "data").string(), demo).is_ok());
    core::TrainJobConfig c;
    c.task = core::TrainTask::kPretrain;  // every head: ITC and ITM
    c.preset = "tiny";
    c.image_size = 32;
    c.steps = 1;
    c.batch_size = 4;
    c.seed = 1;
    c.workers = 1;
    c.data.annotation_files = {(*dir_ / "data" / "web_train.json").string()};
    core::TrainJobContext ctx;
    ctx.job_dir = (*dir_ / "job").string();
    ctx.default_vocab = kVocab;
    auto trained = core::run_training_job(c, ctx);
    ASSERT_TRUE(trained.is_ok()) << trained.status().message();
    model_ = new std::string(trained->model_path);

    auto project = db::Project::open(project_path()).value();
    for (auto [file, source] : {std::pair{"web_train.json", db::CaptionSource::kWeb},
                                std::pair{"human_train.json", db::CaptionSource::kHuman}}) {
      core::ImportOptions io;
      io.source = source;
      ASSERT_TRUE(core::import_dataset(*project, (*dir_ / "data" / file).string(), io).is_ok());
    }
    db::ModelRecord m;
    m.name = "tiny filter";
    m.task = "filter";
    m.checkpoint_path = *model_;
    ASSERT_TRUE(project->add_model(m).is_ok());
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete model_;
  }
  static std::string project_path() { return (*dir_ / "demo.capfilt").string(); }
  static QString images_root() { return QString::fromStdString((*dir_ / "data").string()); }

  void SetUp() override {
    document_ = ProjectDocument::open(QString::fromStdString(project_path()), "alice").value();
    document_->setImagesRoot(images_root());
    RetrievalView::Options o;
    o.vocab_path = QString::fromStdString(kVocab);
    view_ = std::make_unique<RetrievalView>(document_.get(), nullptr, o);
    view_->setK(kK);
  }

  // Opens the model's index in the view; its status message.
  QString open() {
    QSignalSpy opened(view_->session(), &RetrievalSession::modelOpened);
    QSignalSpy failed(view_->session(), &RetrievalSession::failed);
    view_->openSelectedModel();
    EXPECT_TRUE(test::wait_until([&] { return opened.count() + failed.count() > 0; }, 60000));
    EXPECT_EQ(failed.count(), 0) << (failed.isEmpty() ? "" : failed.first().first().toString().toStdString());
    return opened.isEmpty() ? QString() : opened.first().first().toString();
  }

  // Runs `ask` and waits for the view to show its answer.
  void answer(const std::function<void()>& ask) {
    QSignalSpy answered(view_->session(), &RetrievalSession::answered);
    QSignalSpy failed(view_->session(), &RetrievalSession::failed);
    ask();
    ASSERT_TRUE(test::wait_until([&] { return answered.count() + failed.count() > 0; }, 30000));
    ASSERT_EQ(failed.count(), 0) << failed.first().first().toString().toStdString();
  }

  static fs::path* dir_;
  static std::string* model_;
  std::unique_ptr<ProjectDocument> document_;
  std::unique_ptr<RetrievalView> view_;
};

fs::path* RetrievalViewTest::dir_ = nullptr;
std::string* RetrievalViewTest::model_ = nullptr;

// What `capfilt eval retrieval --project P --split "" --images ROOT --k 16` computes: its data, its
// embeddings and its score matrices (core::evaluate_retrieval is exactly these steps).
struct EvalSide {
  core::LabelledProjectImages data;
  std::vector<std::string> images, texts;
  std::vector<int64_t> text_image;
  core::RetrievalScores scores;
  core::RetrievalEvaluation evaluation;
};

EvalSide eval_side(const std::string& project_path, const QString& root, const std::string& model) {
  EvalSide e;
  auto project = db::Project::open(project_path).value();
  auto engine = core::BlipEngine::open({model, kVocab, "cpu"});
  EXPECT_TRUE(engine.is_ok()) << engine.status().message();
  auto eval_model = core::engine_eval_model(*engine.value(), core::beam_caption_defaults(),
                                            core::beam_caption_defaults());
  e.data = core::project_labelled_images_with_ids(*project, "", root.toStdString(), {}).value();
  for (const auto& item : e.data.data) {
    for (const auto& c : item.captions) {
      e.texts.push_back(c);
      e.text_image.push_back(static_cast<int64_t>(e.images.size()));
    }
    e.images.push_back(item.image);
  }
  auto image_emb = core::embed_images(*eval_model, e.images, 16).value();
  auto text_emb = core::embed_texts(*eval_model, e.texts, 16).value();
  e.scores = core::score_retrieval(*eval_model, e.images, e.texts, e.text_image, image_emb,
                                   text_emb, kK).value();
  e.evaluation = core::evaluate_retrieval(*eval_model, e.data.data, kK).value();
  return e;
}

// A column of the evaluation's matrix ordered as its stable ranking orders it, first k.
std::vector<int64_t> ranked(int64_t n, const std::function<double(int64_t)>& score) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score(a) > score(b); });
  order.resize(std::min<size_t>(order.size(), kK));
  return order;
}

TEST_F(RetrievalViewTest, ColumnsEqualTheEvaluationsComputationQueryByQuery) {
  open();
  const auto items = view_->session()->items();
  ASSERT_TRUE(items);
  const EvalSide e = eval_side(project_path(), images_root(), *model_);
  // With every image and caption, eval's rows and columns are the index's rows.
  std::vector<int64_t> eval_caption_ids;
  for (const auto& ids : e.data.caption_ids) eval_caption_ids.insert(eval_caption_ids.end(), ids.begin(), ids.end());
  ASSERT_EQ(e.data.image_ids, items->image_ids);
  ASSERT_EQ(eval_caption_ids, items->caption_ids);
  const auto& itc = e.scores.itc;
  ASSERT_GT(itc.rows, kK);

  bool reordered = false;  // ITM changes ITC's order somewhere (else the check below is weak)
  // Text → image: every 4th caption of the project as the query.
  for (int64_t t = 0; t < itc.cols; t += 4) {
    answer([&] { view_->searchCaption(t); });
    const core::RetrievalAnswer& a = view_->lastAnswer();
    const auto want_itc = core::eval::top_k(itc.rows, kK, [&](int64_t i) { return itc.at(i, t); });
    const auto& m = e.scores.reranked.text_to_image;
    const auto want_rr = ranked(m.rows, [&](int64_t i) { return m.at(i, t); });
    ASSERT_EQ(a.itc.size(), want_itc.size());
    ASSERT_EQ(a.reranked.size(), want_rr.size());
    for (size_t j = 0; j < want_itc.size(); ++j) {
      EXPECT_EQ(a.itc[j].row, want_itc[j]) << "caption " << t << " ITC position " << j;
      EXPECT_NEAR(a.itc[j].itc, itc.at(want_itc[j], t), 1e-6);
      EXPECT_EQ(a.reranked[j].row, want_rr[j]) << "caption " << t << " ITM position " << j;
      EXPECT_NEAR(a.reranked[j].score, m.at(want_rr[j], t), 1e-5);
      reordered = reordered || a.reranked[j].row != a.itc[j].row;
    }
    // The view shows them: its tables hold the same rows in the same order.
    ASSERT_EQ(view_->rerankedTable()->rowCount(), kK);
    EXPECT_EQ(view_->rerankedTable()->item(0, 1)->data(Qt::UserRole).toLongLong(), want_rr[0]);
    EXPECT_EQ(view_->itcTable()->item(kK - 1, 1)->data(Qt::UserRole).toLongLong(), want_itc[kK - 1]);
  }

  // Image → text: every other image.
  for (int64_t i = 0; i < itc.rows; i += 2) {
    answer([&] { view_->searchImage(i); });
    const core::RetrievalAnswer& a = view_->lastAnswer();
    const auto want_itc = core::eval::top_k(itc.cols, kK, [&](int64_t t) { return itc.at(i, t); });
    const auto& m = e.scores.reranked.image_to_text;
    const auto want_rr = ranked(m.cols, [&](int64_t t) { return m.at(i, t); });
    for (size_t j = 0; j < want_itc.size(); ++j) {
      EXPECT_EQ(a.itc[j].row, want_itc[j]) << "image " << i << " ITC position " << j;
      EXPECT_NEAR(a.itc[j].itc, itc.at(i, want_itc[j]), 1e-6);
      EXPECT_EQ(a.reranked[j].row, want_rr[j]) << "image " << i << " ITM position " << j;
      EXPECT_NEAR(a.reranked[j].score, m.at(i, want_rr[j]), 1e-5);
      EXPECT_EQ(a.reranked[j].itc_rank,
                std::find(want_itc.begin(), want_itc.end(), want_rr[j]) - want_itc.begin());
    }
  }

  EXPECT_TRUE(reordered);

  // R@1/5/10 of the whole project, both ways, ITC and ITC→ITM: evaluate_retrieval's numbers.
  QSignalSpy evaluated(view_->session(), &RetrievalSession::evaluated);
  view_->evaluate();
  ASSERT_TRUE(test::wait_until([&] { return evaluated.count() > 0; }, 60000)) << view_->statusText().toStdString();
  const core::RetrievalEvaluation& got = view_->splitResult().retrieval.summary;
  for (auto [g, w] : {std::pair{&got.itc, &e.evaluation.itc}, std::pair{&got.itc_itm, &e.evaluation.itc_itm}}) {
    EXPECT_EQ(g->image_to_text.r1, w->image_to_text.r1);
    EXPECT_EQ(g->image_to_text.r5, w->image_to_text.r5);
    EXPECT_EQ(g->image_to_text.r10, w->image_to_text.r10);
    EXPECT_EQ(g->text_to_image.r1, w->text_to_image.r1);
    EXPECT_EQ(g->text_to_image.r5, w->text_to_image.r5);
    EXPECT_EQ(g->text_to_image.r10, w->text_to_image.r10);
  }
  EXPECT_EQ(got.pairs_scored, e.evaluation.pairs_scored);
  EXPECT_LT(got.itc_itm.text_to_image.r1, 1.0);  // an untrained model misses: there is a list
  EXPECT_TRUE(view_->recallText().contains("R@10"));
}

TEST_F(RetrievalViewTest, MissesRunTheirQueryAndResultsOpenTheirPair) {
  open();
  const auto items = view_->session()->items();
  QSignalSpy evaluated(view_->session(), &RetrievalSession::evaluated);
  view_->evaluate();
  ASSERT_TRUE(test::wait_until([&] { return evaluated.count() > 0; }, 60000));
  const auto& ranks = view_->splitResult().retrieval.reranked_ranks;
  const auto& itc_ranks = view_->splitResult().retrieval.itc_ranks;
  int64_t expected = 0;
  for (size_t i = 0; i < ranks.image_to_text.size(); ++i) expected += ranks.image_to_text[i] > 0 || itc_ranks.image_to_text[i] > 0;
  for (size_t t = 0; t < ranks.text_to_image.size(); ++t) expected += ranks.text_to_image[t] > 0 || itc_ranks.text_to_image[t] > 0;
  QTableWidget* misses = view_->missesTable();
  ASSERT_EQ(misses->rowCount(), expected);
  ASSERT_GT(expected, 0);

  // The last miss is a text query: clicking it runs that caption against the images.
  const int last = misses->rowCount() - 1;
  const qint64 caption_row = misses->item(last, 1)->data(Qt::UserRole).toLongLong();
  answer([&] { Q_EMIT misses->cellClicked(last, 1); });
  EXPECT_TRUE(view_->lastQuery().text_to_image);
  EXPECT_EQ(view_->lastQuery().caption_row, caption_row);
  // Its rank in the list is the rank the evaluation counted.
  const int64_t own_image = items->caption_image[static_cast<size_t>(caption_row)];
  const auto& rr = view_->lastAnswer().reranked;
  const auto at = std::find_if(rr.begin(), rr.end(), [&](const core::RetrievedItem& x) { return x.row == own_image; });
  if (at != rr.end()) {
    EXPECT_EQ(misses->item(last, 3)->text().toLongLong(), (at - rr.begin()) + 1);
  } else {
    EXPECT_EQ(misses->item(last, 3)->text(), QString("> %1").arg(kK));
  }

  // A click on the re-ranked column's first image opens it in the review.
  QSignalSpy pair(view_.get(), &RetrievalView::pairRequested);
  Q_EMIT view_->rerankedTable()->cellClicked(0, 1);
  ASSERT_EQ(pair.count(), 1);
  const auto image_row = static_cast<size_t>(rr.front().row);
  EXPECT_EQ(pair.first().at(1).toString().toStdString(), items->image_paths[image_row]);
  const qint64 caption_id = pair.first().at(0).toLongLong();
  const auto c = std::find(items->caption_ids.begin(), items->caption_ids.end(), caption_id);
  ASSERT_NE(c, items->caption_ids.end());
  EXPECT_EQ(items->caption_image[static_cast<size_t>(c - items->caption_ids.begin())], static_cast<int64_t>(image_row));
}

TEST_F(RetrievalViewTest, TheIndexIsBuiltOnceThenReused) {
  fs::remove_all(project_path() + ".embeddings");  // left by another case of this process
  EXPECT_TRUE(open().contains("built (no index yet)"));
  const std::string file = core::embedding_index_path(project_path(), view_->session()->modelId());
  EXPECT_TRUE(fs::exists(file));
  // Another view (the studio reopened): the file is read, nothing is embedded again.
  const auto written = fs::last_write_time(file);
  view_ = std::make_unique<RetrievalView>(document_.get(), nullptr, RetrievalView::Options{QString::fromStdString(kVocab)});
  const QString again = open();
  EXPECT_TRUE(again.contains("loaded")) << again.toStdString();
  EXPECT_EQ(fs::last_write_time(file), written);
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
