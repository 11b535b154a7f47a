#pragma once
// A synthetic image-text dataset on which a tiny BLIP learns quickly on a CPU and on which CapFilt
// can be scored against ground truth: one to three coloured shapes on varied backgrounds, a
// human-style caption per image, a clean "human-annotated" subset, a "web" part in which a set
// fraction of captions is replaced by realistic noise, VQA pairs, and train/val/test splits.
//
// Layout written under the output folder (image paths in the JSON are relative to it):
//   images/demo_NNNNN.png
//   human_train.json, web_train.json   BLIP annotation layout: [{"image", "caption"}], one caption
//   val.json, test.json                [{"image", "caption": [3 reference captions]}]
//   vqa_train.json, vqa_val.json, vqa_test.json
//                                      [{"question_id", "image", "question", "answer": [..], "kind"}]
//   ground-truth/noise_labels.json     per web caption: noisy or not, the kind of noise, the clean
//                                      caption (kept apart: importing the annotations never sees it)
//   ground-truth/scenes.json           every image's shapes, background and split
//   README.txt
// Everything is a pure function of the options: the same seed writes byte-identical files.

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/image_io.h"
#include "db/status.h"

namespace capfilt::core {

struct DemoShape {
  std::string kind;    // circle, square, triangle, star
  std::string colour;  // red, green, blue, yellow, purple, orange, white, black
  std::string size;    // small, medium, large
  double x = 0, y = 0; // centre, as fractions of the image side
  double radius = 0;   // fraction of the image side
};

struct DemoScene {
  std::string background;  // a colour name ("light blue")
  std::vector<DemoShape> shapes;
};

DemoScene sample_demo_scene(std::mt19937& rng);
// Renders at size × size; the rng draws the background's gradient and grain.
RgbImage render_demo_scene(const DemoScene& scene, int size, std::mt19937& rng);
// The caption template `variant` (any integer; taken modulo the templates for the shape count).
std::string describe_demo_scene(const DemoScene& scene, int variant);

struct DemoDataOptions {
  std::uint64_t seed = 1;
  int count = 500;             // images
  double noise = 0.3;          // fraction of web captions replaced by noise
  int image_size = 96;
  double human_fraction = 0.2; // share of training images in the clean human subset
  double val_fraction = 0.1;
  double test_fraction = 0.1;
  bool overwrite = false;      // allow a non-empty output folder
  std::function<void(int done, int total)> progress;  // may be empty; called on this thread
  std::function<bool()> cancelled;                    // may be empty
};

struct DemoDataSummary {
  int images = 0, human = 0, web = 0, val = 0, test = 0;
  int noisy = 0;           // web captions replaced by noise
  int vqa_questions = 0;
};

// Writes the dataset. Fails (nothing useful left half-written: files go to a temporary folder that
// is renamed at the end) when the folder is not empty and overwrite is off, or on an I/O error.
Result<DemoDataSummary> generate_demo_data(const std::string& out_dir, const DemoDataOptions& options);

}  // namespace capfilt::core
