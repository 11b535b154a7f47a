// Retrains the small shapes filter of tests/data/gradcam-shapes-filter with the recipe in
// gradcam_shapes.h (450 steps: about 25 s of CPU on one core, minutes on a busy machine) and
// checks what the fast test checks on the committed one: a shape word's Grad-CAM peaks on the
// shape in one-shape scenes. Also how to regenerate the committed model (copy
// <scratch>/gradcam-shapes/filter/* and vocab.txt there).

#include <gtest/gtest.h>

#include <cstdio>

#include "gradcam_shapes.h"
#include "test_paths.h"

namespace capfilt::core::gradcam_test {
namespace {

TEST(GradCamShapesTraining, TheRecipeGivesMapsThatPeakOnTheShape) {
  const fs::path dir = fs::path(test::kScratchDir) / "gradcam-shapes";
  fs::create_directories(dir);
  const std::string vocab = write_vocab(dir);
  const auto tok = model::Tokenizer::from_vocab_file(vocab);
  const std::string folder = train_filter(dir, tok, 450);
  auto engine = BlipEngine::open({folder, vocab, "cpu"});
  ASSERT_TRUE(engine) << engine.status().message();
  const Evaluation e = evaluate(**engine, 1, 60, 2024);
  std::printf("retrained, one shape: peak on it in %d of %d scenes (chance %.2f)\n", e.on_named,
              e.tried, e.chance);
  EXPECT_GE(e.on_named, 0.8 * e.tried);
}

}  // namespace
}  // namespace capfilt::core::gradcam_test
