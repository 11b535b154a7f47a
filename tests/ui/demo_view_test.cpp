// The Caption & VQA tab on the tiny-vocabulary parity models (tests/data/blip-parity-tiny-vocab):
// its captions equal `capfilt caption`'s for the same options and seed (the built binary is run);
// a typed caption is scored and gets a Grad-CAM with a word picker; questions are answered and
// candidates ranked as the engine ranks them; models open and inference runs off the GUI thread.

#include "ui/demo/demo_view.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrl>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "core/demo_models.h"
#include "demo_project.h"
#include "ui/demo/ask_panel.h"
#include "ui/demo/caption_panel.h"
#include "ui/demo/demo_worker.h"
#include "ui/demo/heat_map.h"
#include "ui/demo/image_canvas.h"
#include "ui/demo/match_panel.h"
#include "ui/demo/project_image_dialog.h"
#include "ui/shared/engine_cache.h"
#include "ui/shared/model_selector.h"
#include "ui/shared/project_document.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

namespace fs = std::filesystem;

const QString kParity = QString(capfilt::test::kTestDataDir) + "/blip-parity-tiny-vocab";
const QString kVocab = kParity + "/tiny_vocab.txt";
const QString kImage = kParity + "/img0.png";

struct Fixture {
  EngineCache engines{EngineCache::engineOpener(kVocab)};
  DemoView view{&engines, nullptr, {}};

  // Opens `captioner` and `scorer` (parity model folders) and the image; true when all are ready.
  bool ready(const QString& captioner, const QString& scorer) {
    view.captioner()->addOpenedModel(kParity + "/" + captioner);
    view.scorer()->addOpenedModel(kParity + "/" + scorer);
    view.openImage(kImage);
    return test::wait_until(
        [&] {
          return engines.engine(kParity + "/" + captioner) &&
                 engines.engine(kParity + "/" + scorer) && view.imagePath() == kImage &&
                 !view.worker()->busy();
        },
        20000);
  }
};

// `capfilt caption` with the options as flags; its lines "text\t(log p X)".
std::vector<std::pair<std::string, double>> cli_captions(const core::CaptionOptions& o) {
  QProcess cli;
  QStringList args = {"--threads",     "1",
                      "caption",       kImage,
                      "--model",       kParity + "/caption",
                      "--vocab",       kVocab,
                      "--method",      core::to_string(o.method),
                      "--beams",       QString::number(o.num_beams),
                      "--samples",     QString::number(o.num_captions),
                      "--max-length",  QString::number(o.max_length),
                      "--min-length",  QString::number(o.min_length),
                      "--top-p",       QString::number(o.top_p, 'g', 9),
                      "--temperature", QString::number(o.temperature, 'g', 9),
                      "--seed",        QString::number(o.seed),
                      "--prompt",      QString::fromStdString(o.prompt)};
  cli.start(CAPFILT_PROGRAM, args);
  EXPECT_TRUE(cli.waitForFinished(60000));
  EXPECT_EQ(cli.exitCode(), 0) << cli.readAllStandardError().toStdString();
  std::vector<std::pair<std::string, double>> lines;
  for (const QString& line :
       QString::fromUtf8(cli.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts)) {
    const int tab = line.lastIndexOf('\t');
    const QString lp = line.mid(tab).remove("\t(log p ").remove(')');
    lines.emplace_back(line.left(tab).toStdString(), lp.toDouble());
  }
  return lines;
}

void expect_same_as_cli(Fixture& f, const core::CaptionOptions& options) {
  f.view.captionPanel()->setOptions(options);
  QSignalSpy shown(&f.view, &DemoView::captionsShown);
  f.view.captionPanel()->captionButton()->click();
  ASSERT_TRUE(test::wait_until([&] { return shown.count() == 1; }, 20000));
  const auto& rows = f.view.captionPanel()->captions();
  const auto cli = cli_captions(options);
  ASSERT_EQ(rows.size(), cli.size());
  ASSERT_EQ(rows.size(), static_cast<size_t>(options.num_captions));
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].text, cli[i].first) << i;
    EXPECT_NEAR(rows[i].log_prob, cli[i].second, 0.0006) << i;  // the CLI prints 3 decimals
    // Each caption is scored by the scorer (the parity ITM model).
    EXPECT_GE(rows[i].itm, 0.0);
    EXPECT_LE(rows[i].itm, 1.0);
  }
}

TEST(DemoView, NucleusCaptionsEqualTheCommandLinesForTheSameSeed) {
  Fixture f;
  ASSERT_TRUE(f.ready("caption", "itm")) << f.view.statusText().toStdString();
  core::CaptionOptions o;
  o.method = core::CaptionMethod::kNucleus;
  o.num_captions = 3;
  o.top_p = 0.8f;
  o.temperature = 0.7f;
  o.min_length = 4;
  o.max_length = 14;
  o.seed = 11;
  o.prompt = "a picture of ";
  expect_same_as_cli(f, o);
  // Another seed, other samples (the seed reaches the sampler).
  const auto first = f.view.captionPanel()->captions();
  o.seed = 12;
  o.temperature = 1.5f;
  expect_same_as_cli(f, o);
  bool differ = false;
  for (size_t i = 0; i < first.size(); ++i)
    differ |= first[i].text != f.view.captionPanel()->captions()[i].text;
  EXPECT_TRUE(differ);
}

TEST(DemoView, BeamCaptionsEqualTheCommandLines) {
  Fixture f;
  ASSERT_TRUE(f.ready("caption", "itm")) << f.view.statusText().toStdString();
  core::CaptionOptions o = core::beam_caption_defaults();
  o.num_beams = 4;
  o.num_captions = 2;
  o.min_length = 3;
  o.max_length = 12;
  o.prompt = "";
  expect_same_as_cli(f, o);
}

TEST(DemoView, ATypedCaptionIsScoredOnceSettledWithItsGradCam) {
  Fixture f;
  ASSERT_TRUE(f.ready("caption", "itm")) << f.view.statusText().toStdString();
  QSignalSpy shown(&f.view, &DemoView::matchShown);
  MatchPanel* match = f.view.matchPanel();
  match->setDebounceMs(150);
  // Typed key by key: one score once the typing pauses, not one per key.
  QLineEdit* edit = match->findChild<QLineEdit*>();
  ASSERT_NE(edit, nullptr);
  QTest::keyClicks(edit, "two dogs playing");
  ASSERT_TRUE(test::wait_until([&] { return shown.count() >= 1; }, 20000));
  QTest::qWait(300);
  EXPECT_EQ(shown.count(), 1);

  // The scores are the engine's for that pair.
  auto engine = f.engines.engine(kParity + "/itm");
  auto images = engine->encode_files({kImage.toStdString()});
  ASSERT_TRUE(images);
  const auto score = engine->score(*images, {{0, "two dogs playing"}});
  ASSERT_TRUE(score);
  EXPECT_TRUE(match->scoreText().contains(QString::number(score->front().itm, 'f', 3)))
      << match->scoreText().toStdString();
  EXPECT_TRUE(match->scoreText().contains(QString::number(score->front().itc, 'f', 3)));

  // Grad-CAM: a map per word, the picker chooses which one lies over the image.
  EXPECT_EQ(match->words(), (QStringList{"two", "dogs", "playing"}));
  const auto cam = f.engines.engine(kParity + "/itm")->itm_gradcam(*images, 0, "two dogs playing");
  ASSERT_TRUE(cam);
  EXPECT_EQ(match->gradCam().words[1].heat, cam->words[1].heat);
  EXPECT_EQ(match->selectedHeat(), cam->overall);  // "all words" first
  ASSERT_FALSE(f.view.canvas()->overlay().isNull());
  EXPECT_EQ(f.view.canvas()->overlay().size(), QSize(cam->grid_cols, cam->grid_rows));
  const QImage all = f.view.canvas()->overlay();
  ASSERT_TRUE(match->selectWord("dogs"));
  EXPECT_EQ(match->selectedHeat(), cam->words[1].heat);
  EXPECT_NE(f.view.canvas()->overlay(), all);
  EXPECT_EQ(f.view.canvas()->overlay(),
            heat_map_image(cam->words[1].heat, cam->grid_rows, cam->grid_cols));

  // Editing keeps the picked word when it is still there.
  match->setText("two dogs");
  ASSERT_TRUE(test::wait_until([&] { return shown.count() == 2; }, 20000));
  EXPECT_EQ(match->words(), (QStringList{"two", "dogs"}));
  EXPECT_EQ(match->selectedWord(), "dogs");
}

TEST(DemoView, ClickingACaptionScoresIt) {
  Fixture f;
  ASSERT_TRUE(f.ready("caption", "itm")) << f.view.statusText().toStdString();
  f.view.matchPanel()->setDebounceMs(10);
  QSignalSpy captions(&f.view, &DemoView::captionsShown);
  f.view.captionPanel()->captionButton()->click();
  ASSERT_TRUE(test::wait_until([&] { return captions.count() == 1; }, 20000));
  ASSERT_FALSE(f.view.captionPanel()->captions().empty());
  QSignalSpy shown(&f.view, &DemoView::matchShown);
  auto* table = f.view.captionPanel()->findChild<QTableWidget*>();
  ASSERT_NE(table, nullptr);
  Q_EMIT table->cellClicked(0, 0);
  ASSERT_TRUE(test::wait_until([&] { return shown.count() == 1; }, 20000));
  EXPECT_EQ(f.view.matchPanel()->text().toStdString(), f.view.captionPanel()->captions()[0].text);
  const double itm = f.view.captionPanel()->captions()[0].itm;
  EXPECT_TRUE(f.view.matchPanel()->scoreText().contains(QString::number(itm, 'f', 3)));
}

TEST(DemoView, QuestionsAreAnsweredAndCandidatesRankedAsTheEngineRanksThem) {
  Fixture f;
  ASSERT_TRUE(f.ready("vqa", "itm")) << f.view.statusText().toStdString();
  QSignalSpy shown(&f.view, &DemoView::answersShown);
  f.view.askPanel()->setQuestion("what is the cat doing?");
  f.view.askPanel()->askButton()->click();
  ASSERT_TRUE(test::wait_until([&] { return shown.count() == 1; }, 20000));
  EXPECT_EQ(f.view.askPanel()->answers().size(), 3u);

  f.view.askPanel()->setCandidates("sitting, playing,two dogs");
  f.view.askPanel()->askButton()->click();
  ASSERT_TRUE(test::wait_until([&] { return shown.count() == 2; }, 20000));
  auto engine = f.engines.engine(kParity + "/vqa");
  auto images = engine->encode_files({kImage.toStdString()});
  ASSERT_TRUE(images);
  const auto ranked = engine->rank_answers(*images, 0, "what is the cat doing?",
                                           {"sitting", "playing", "two dogs"});
  ASSERT_TRUE(ranked);
  const auto& shown_answers = f.view.askPanel()->answers();
  ASSERT_EQ(shown_answers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(shown_answers[i].text, (*ranked)[i].text);
    EXPECT_DOUBLE_EQ(shown_answers[i].log_prob, (*ranked)[i].log_prob);
  }
}

TEST(DemoView, ADroppedImageFileIsOpened) {
  EngineCache engines(EngineCache::engineOpener(kVocab));
  DemoView view(&engines, nullptr, {});
  QSignalSpy loaded(&view, &DemoView::imageLoaded);
  QMimeData data;
  data.setUrls({QUrl::fromLocalFile(kImage)});
  QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(view.canvas(), &enter);
  EXPECT_TRUE(enter.isAccepted());
  QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(view.canvas(), &drop);
  ASSERT_TRUE(test::wait_until([&] { return loaded.count() == 1; }, 10000));
  EXPECT_EQ(view.imagePath(), kImage);
  EXPECT_EQ(view.canvas()->image().size(), QSize(64, 48));
}

TEST(DemoView, AFileCoreCannotReadIsNamedInTheStatus) {
  Fixture f;
  const fs::path dir = test::scratch("demo-bad-image");
  const fs::path bad = dir / "notes.png";
  std::ofstream(bad) << "not an image";
  f.view.openImage(QString::fromStdString(bad.string()));
  f.view.worker()->waitForIdle();
  EXPECT_TRUE(f.view.statusText().contains("notes.png")) << f.view.statusText().toStdString();
  EXPECT_TRUE(f.view.imagePath().isEmpty());
  EXPECT_FALSE(f.view.captionPanel()->captionButton()->isEnabled());
}

TEST(DemoView, AModelThatCannotCaptionSaysSo) {
  Fixture f;
  ASSERT_TRUE(f.ready("itm", "itm")) << f.view.statusText().toStdString();
  QSignalSpy shown(&f.view, &DemoView::captionsShown);
  f.view.captionPanel()->captionButton()->click();
  ASSERT_TRUE(test::wait_until([&] { return shown.count() == 1; }, 20000));
  EXPECT_TRUE(f.view.captionPanel()->captions().empty());
  auto* message = f.view.captionPanel()->findChild<QLabel*>();
  bool said = false;
  for (auto* label : f.view.captionPanel()->findChildren<QLabel*>())
    said |= label->isVisibleTo(&f.view) && label->text().contains("cannot caption");
  EXPECT_TRUE(said);
  (void)message;
}

// Opening a model and captioning return to the event loop at once; results arrive later.
TEST(DemoView, ModelsOpenAndInferenceRunsOffTheGuiThread) {
  std::atomic<bool> release{false};
  EngineCache engines([&](const std::string& path) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    core::EngineOptions o;
    o.model_path = path;
    o.vocab_path = kVocab.toStdString();
    o.device = "cpu";
    return core::BlipEngine::open(o);
  });
  DemoView view(&engines, nullptr, {});
  QElapsedTimer timer;
  timer.start();
  view.captioner()->addOpenedModel(kParity + "/caption");
  view.openImage(kImage);
  EXPECT_LT(timer.elapsed(), 200);
  // The event loop runs while the model is still opening.
  int ticks = 0;
  QTimer tick;
  QObject::connect(&tick, &QTimer::timeout, [&] { ++ticks; });
  tick.start(5);
  QTest::qWait(100);
  EXPECT_GT(ticks, 5);
  EXPECT_TRUE(view.statusText().contains("loading the captioner"))
      << view.statusText().toStdString();
  release = true;
  ASSERT_TRUE(
      test::wait_until([&] { return engines.engine(kParity + "/caption") != nullptr; }, 20000));
  ASSERT_TRUE(test::wait_until([&] { return view.imagePath() == kImage; }, 20000));
  QSignalSpy shown(&view, &DemoView::captionsShown);
  timer.restart();
  view.captionPanel()->captionButton()->click();
  EXPECT_EQ(shown.count(), 0);  // not computed inside the click
  EXPECT_LT(timer.elapsed(), 200);
  ASSERT_TRUE(test::wait_until([&] { return shown.count() == 1; }, 20000));
  EXPECT_FALSE(view.captionPanel()->captions().empty());
}

TEST(ModelSelector, ListsDemoProjectAndOpenedModelsAndPrefersATask) {
  const fs::path dir = test::scratch("model-selector");
  // A demo-models folder as `capfilt demo-models` leaves it.
  for (const char* part : {"captioner", "filter", "pretrain"}) {
    fs::create_directories(dir / "jobs" / part / "model");
    std::ofstream(dir / "jobs" / part / "model" / "model.safetensors") << "x";
  }
  QJsonObject manifest{
      {"captioner", QString::fromStdString((dir / "jobs/captioner/model").string())},
      {"filter", QString::fromStdString((dir / "jobs/filter/model").string())},
      {"pretrained", QString::fromStdString((dir / "jobs/pretrain/model").string())},
      {"data", QString::fromStdString((dir / "data").string())},
      {"seconds", 1.0},
      {"recipe", capfilt::core::kDemoModelsRecipe}};
  QFile file(QString::fromStdString((dir / "demo-models.json").string()));
  ASSERT_TRUE(file.open(QIODevice::WriteOnly));
  file.write(QJsonDocument(manifest).toJson());
  file.close();

  ModelSelector selector("Scorer");
  QSignalSpy changed(&selector, &ModelSelector::modelChanged);
  selector.setPreferredTask("filter");
  EXPECT_TRUE(selector.currentPath().isEmpty());
  selector.setDemoModelsFolder(QString::fromStdString(dir.string()));
  ASSERT_EQ(selector.entries().size(), 3);
  EXPECT_EQ(selector.currentPath().toStdString(), (dir / "jobs/filter/model").string());
  EXPECT_EQ(changed.count(), 1);

  db::ModelRecord m;
  m.id = 4;
  m.name = "coco filter";
  m.task = "filter";
  m.checkpoint_path = "/models/coco-filter";
  db::ModelRecord unstored;  // no checkpoint: not listed
  unstored.name = "lost";
  selector.setProjectModels({m, unstored});
  ASSERT_EQ(selector.entries().size(), 4);
  EXPECT_EQ(selector.entries()[3].label, "coco filter (filter, #4)");
  EXPECT_EQ(changed.count(), 1);  // the choice stays

  selector.addOpenedModel("/hf/blip-itm-base-coco");
  EXPECT_EQ(selector.currentPath(), "/hf/blip-itm-base-coco");
  EXPECT_EQ(changed.count(), 2);
  selector.addOpenedModel("/hf/blip-itm-base-coco");  // listed once
  EXPECT_EQ(selector.entries().size(), 5);
  // Chosen by hand: a new preference does not override it.
  selector.setPreferredTask("captioner");
  EXPECT_EQ(selector.currentPath(), "/hf/blip-itm-base-coco");
  // A folder without demo models lists none of them.
  selector.setDemoModelsFolder(QString::fromStdString((dir / "nothing").string()));
  EXPECT_EQ(selector.entries().size(), 2);
}

TEST(EngineCache, OpensOnceSharesAndReportsFailures) {
  std::atomic<int> opened{0};
  EngineCache engines([&](const std::string& path) -> Result<std::unique_ptr<core::BlipEngine>> {
    ++opened;
    core::EngineOptions o;
    o.model_path = path;
    o.vocab_path = kVocab.toStdString();
    o.device = "cpu";
    return core::BlipEngine::open(o);
  });
  QSignalSpy ready(&engines, &EngineCache::ready);
  QSignalSpy failed(&engines, &EngineCache::failed);
  engines.request(kParity + "/itm");
  engines.request(kParity + "/itm");
  EXPECT_TRUE(engines.isLoading(kParity + "/itm"));
  ASSERT_TRUE(test::wait_until([&] { return ready.count() == 1; }, 20000));
  auto first = engines.engine(kParity + "/itm");
  ASSERT_TRUE(first);
  engines.request(kParity + "/itm");
  ASSERT_TRUE(test::wait_until([&] { return ready.count() == 2; }, 5000));
  EXPECT_EQ(engines.engine(kParity + "/itm"), first);
  EXPECT_EQ(opened.load(), 1);
  engines.request("/no/such/model");
  ASSERT_TRUE(test::wait_until([&] { return failed.count() == 1; }, 5000));
  EXPECT_TRUE(engines.error("/no/such/model").contains("/no/such/model"));
  EXPECT_EQ(engines.engine("/no/such/model"), nullptr);
}

TEST(DemoView, AnImageIsPickedFromTheProject) {
  const fs::path dir = test::scratch("demo-project-image");
  const std::string path = test::build_demo_project(dir, 12);
  auto doc = ProjectDocument::open(QString::fromStdString(path), "erin");
  ASSERT_TRUE(doc);
  (*doc)->setImagesRoot(QString::fromStdString((dir / "data").string()));
  ProjectImageDialog dialog(doc->get());
  EXPECT_GT(dialog.rowCount(), 5);
  dialog.search("circle");
  ASSERT_GT(dialog.rowCount(), 0);
  dialog.selectRow(0);
  EXPECT_TRUE(dialog.caption().contains("circle"));
  EXPECT_TRUE(QFileInfo::exists(dialog.imagePath())) << dialog.imagePath().toStdString();

  EngineCache engines(EngineCache::engineOpener(kVocab));
  DemoView view(&engines, doc->get(), {});
  QSignalSpy loaded(&view, &DemoView::imageLoaded);
  view.openImage(dialog.imagePath());
  ASSERT_TRUE(test::wait_until([&] { return loaded.count() == 1; }, 10000));
  EXPECT_EQ(view.canvas()->image().size(), QSize(128, 128));
}

TEST(HeatMap, NormalisedColouredAndPeaked) {
  const std::vector<float> heat = {0, 1, 4, 2};
  const QImage image = heat_map_image(heat, 2, 2);
  ASSERT_EQ(image.size(), QSize(2, 2));
  EXPECT_EQ(heat_map_peak(heat), 2);
  EXPECT_GT(image.pixelColor(0, 1).alphaF(), image.pixelColor(0, 0).alphaF());
  EXPECT_GT(image.pixelColor(0, 1).red(), image.pixelColor(0, 0).red());
  EXPECT_EQ(heat_map_peak({0, 0}), -1);
  EXPECT_TRUE(heat_map_image(heat, 3, 2).isNull());
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
