// Grad-CAM through the facade (BlipEngine::itm_gradcam) on demo scenes, with the small shapes
// filter in tests/data/gradcam-shapes-filter (trained by the recipe in gradcam_shapes.h; the slow
// test gradcam_shapes_slowtest retrains it and checks the same): the scenes' ground truth says
// where each shape is, so where a word's map peaks can be checked over many scenes against chance.
//
// What holds for this filter (and, measured the same way, for the demo filter of
// core/demo_models.h): a shape word's map is non-uniform and peaks on a shape, not the
// background. Which of two shapes it picks is at chance: these small filters match captions
// by their words' presence and do not bind a word to its own shape, so that is printed, not
// asserted.

#include "gradcam_shapes.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "test_paths.h"

namespace capfilt::core::gradcam_test {
namespace {

const std::string kFilter = std::string(test::kTestDataDir) + "/gradcam-shapes-filter";

std::unique_ptr<BlipEngine> open_filter() {
  auto engine = BlipEngine::open({kFilter, kFilter + "/vocab.txt", "cpu"});
  EXPECT_TRUE(engine) << engine.status().message();
  return engine ? std::move(engine).value() : nullptr;
}

TEST(GradCamShapes, OnOneShapeScenesTheShapeWordsMapPeaksOnTheShape) {
  auto engine = open_filter();
  ASSERT_TRUE(engine);
  const Evaluation e = evaluate(*engine, 1, 60, 2024);
  std::printf("one shape: peak on it in %d of %d scenes (chance %.2f); non-uniform %d\n",
              e.on_named, e.tried, e.chance, e.nonuniform);
  EXPECT_GE(e.on_named, 0.8 * e.tried);
  EXPECT_GT(e.on_named, 2.5 * e.chance * e.tried);
  EXPECT_GE(e.nonuniform, 0.6 * e.tried);  // large shapes give broad maps
}

TEST(GradCamShapes, OnTwoShapeScenesTheMapPeaksOnAShapeNotTheBackground) {
  auto engine = open_filter();
  ASSERT_TRUE(engine);
  const Evaluation e = evaluate(*engine, 2, 60, 2025);
  std::printf(
      "two shapes: peak on the named shape %d, on the other %d, of %d scenes "
      "(chance for the named one %.2f); non-uniform %d\n",
      e.on_named, e.on_other, e.tried, e.chance, e.nonuniform);
  EXPECT_GE(e.on_named + e.on_other, 0.85 * e.tried);
  EXPECT_GE(e.nonuniform, 0.6 * e.tried);
}

// The default layer is the one that carries the words: the last layer's word maps are all zero.
TEST(GradCamShapes, TheLastLayersWordMapsAreEmpty) {
  auto engine = open_filter();
  ASSERT_TRUE(engine);
  std::mt19937 rng(3);
  const Scene s = make_scene(rng, 1);
  auto images = engine->encode_images({s.image});
  ASSERT_TRUE(images);
  auto last = engine->itm_gradcam(*images, 0, s.caption, {2});
  auto chosen = engine->itm_gradcam(*images, 0, s.caption);
  ASSERT_TRUE(last && chosen);
  EXPECT_EQ(chosen->layer, 1);
  EXPECT_EQ(chosen->grid_rows, 6);
  EXPECT_EQ(chosen->words.size(), last->words.size());
  for (const auto& w : last->words) {
    EXPECT_EQ(*std::max_element(w.heat.begin(), w.heat.end()), 0.0f) << w.word;
  }
  EXPECT_GT(*std::max_element(chosen->overall.begin(), chosen->overall.end()), 0.0f);
  EXPECT_NEAR(chosen->itm, last->itm, 1e-6);
  auto beyond = engine->itm_gradcam(*images, 0, s.caption, {3});
  EXPECT_FALSE(beyond);
}

// Wordpieces merge into their word (the parity model's tiny vocabulary has "cat" and "##s", not
// "cats"); the score is the ITM probability score() gives.
TEST(GradCamShapes, WordsAreWholeAndTheScoreIsTheItmProbability) {
  const std::string parity = std::string(test::kTestDataDir) + "/blip-parity-tiny-vocab";
  auto engine = BlipEngine::open({parity + "/itm", parity + "/tiny_vocab.txt", "cpu"});
  ASSERT_TRUE(engine) << engine.status().message();
  auto images = (*engine)->encode_files({parity + "/img0.png"});
  ASSERT_TRUE(images);
  auto cam = (*engine)->itm_gradcam(*images, 0, "two cats playing.");
  ASSERT_TRUE(cam) << cam.status().message();
  std::vector<std::string> words;
  for (const auto& w : cam->words) words.push_back(w.word);
  EXPECT_EQ(words, (std::vector<std::string>{"two", "cats", "playing", "."}));
  EXPECT_EQ(cam->overall.size(), static_cast<size_t>(cam->grid_rows * cam->grid_cols));
  auto score = (*engine)->score(*images, {{0, "two cats playing."}});
  ASSERT_TRUE(score);
  EXPECT_NEAR(cam->itm, score->front().itm, 1e-5);
  // A model without an ITM head has no Grad-CAM.
  auto captioner = BlipEngine::open({parity + "/caption", parity + "/tiny_vocab.txt", "cpu"});
  ASSERT_TRUE(captioner);
  auto its_images = (*captioner)->encode_files({parity + "/img0.png"});
  ASSERT_TRUE(its_images);
  auto refused = (*captioner)->itm_gradcam(*its_images, 0, "two cats");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), Status::Code::kUnsupported);
}

// Measures another filter the same way (e.g. the demo filter of `capfilt demo-models`):
// GRADCAM_MODEL=DIR GRADCAM_VOCAB=vocab.txt engine_gradcam_shapes_test
//   --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Measure*'
TEST(GradCamShapes, DISABLED_MeasureAnotherFilter) {
  const char* model = std::getenv("GRADCAM_MODEL");
  const char* vocab = std::getenv("GRADCAM_VOCAB");
  ASSERT_TRUE(model && vocab) << "set GRADCAM_MODEL and GRADCAM_VOCAB";
  auto engine = BlipEngine::open({model, vocab, "cpu"});
  ASSERT_TRUE(engine) << engine.status().message();
  for (int shapes : {1, 2}) {
    const Evaluation e = evaluate(**engine, shapes, 60, 2023 + shapes);
    std::printf(
        "%s, %d shape(s): peak on the named shape %d, on the other %d, of %d (chance %.2f); "
        "non-uniform %d\n",
        model, shapes, e.on_named, e.on_other, e.tried, e.chance, e.nonuniform);
  }
}

}  // namespace
}  // namespace capfilt::core::gradcam_test
