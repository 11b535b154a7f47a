#pragma once
// Shared by the Grad-CAM tests on demo scenes (core/demo_data.h): a filter shaped like the tiny
// preset but narrower (48 px images in 6 x 6 patches, width 64, 3 text layers) with a vocabulary of
// the demo captions' words, its training recipe (BLIP's filter objective, ITC + ITM, on rendered
// scenes; every two-shape scene comes with a twin whose shapes' colours are swapped, so the ITM's
// hard negative is often a caption with the colours on the wrong shapes), and the measurement:
// where a word's map peaks against where the scene's ground truth puts the shapes.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "core/blip_engine.h"
#include "core/demo_data.h"
#include "core/preprocess.h"
#include "model/hf_import.h"
#include "model/pretrain.h"
#include "model/tokenizer.h"

namespace capfilt::core::gradcam_test {

namespace fs = std::filesystem;

inline constexpr int kImageSize = 48;  // 6 x 6 patches of 8 px

struct Scene {
  DemoScene scene;
  RgbImage image;
  std::string caption;
};

inline Scene make_scene(std::mt19937& rng, int variant) {
  Scene s;
  s.scene = sample_demo_scene(rng);
  s.image = render_demo_scene(s.scene, kImageSize, rng);
  s.caption = describe_demo_scene(s.scene, variant);
  return s;
}

// Every word of the demo captions, one token each.
inline std::string write_vocab(const fs::path& dir) {
  std::set<std::string> words = {"(", ")", ",", ".", ":", "!", "-", "'"};
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) {
    std::istringstream in(make_scene(rng, i).caption);
    for (std::string w; in >> w;) {
      w.erase(std::remove_if(w.begin(), w.end(), [](char c) { return c == ',' || c == ':'; }),
              w.end());
      if (!w.empty()) words.insert(w);
    }
  }
  const fs::path path = dir / "vocab.txt";
  std::ofstream out(path);
  out << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const auto& w : words) out << w << "\n";
  return path.string();
}

inline model::BlipConfig filter_config(const model::Tokenizer& tok) {
  model::BlipConfig c = model::preset("tiny");
  c.name = "gradcam-test-filter";
  c.vision = model::VisionConfig{kImageSize, 8, 64, 2, 4, 128, 1e-6};
  c.text.vocab_size = tok.size();
  c.text.hidden = 64;
  c.text.layers = 3;
  c.text.heads = 4;
  c.text.intermediate = 128;
  c.text.max_positions = 40;
  const auto& ids = tok.special_ids();
  c.text.tokens = model::SpecialTokens{ids.pad, ids.cls, ids.sep, ids.dec, ids.enc};
  c.embed_dim = 32;
  c.queue_size = 128;
  c.components.text_decoder = false;
  return c;
}

// Trains the filter and saves it under dir/filter; returns its folder.
inline std::string train_filter(const fs::path& dir, const model::Tokenizer& tok, int steps,
                                int save_every = 0) {
  torch::manual_seed(5);
  model::Blip blip(filter_config(tok));
  model::PretrainOptions o;
  o.terms = {true, true, false};
  o.optimizer.peak_lr = 2e-3;
  o.optimizer.warmup_start_lr = 1e-4;
  o.optimizer.warmup_steps = 20;
  o.optimizer.total_steps = steps;
  o.optimizer.min_lr = 2e-4;
  o.seed = 5;
  model::Pretrainer trainer(blip, o);
  std::mt19937 rng(7);
  const int64_t batch = 24;
  for (int step = 0; step < steps; ++step) {
    std::vector<float> pixels;
    std::vector<std::string> captions;
    auto add = [&](const Scene& s) {
      const auto p = preprocess_for_blip(s.image, kImageSize);
      pixels.insert(pixels.end(), p.begin(), p.end());
      captions.push_back(s.caption);
    };
    while (static_cast<int64_t>(captions.size()) < batch) {
      const int variant = static_cast<int>(rng() % 60);
      Scene s = make_scene(rng, variant);
      add(s);
      // Its twin with the two shapes' colours swapped: the ITM's hard negative is then the twin's
      // caption, which only a model that binds each colour word to its shape can reject.
      const auto& shapes = s.scene.shapes;
      if (captions.size() < static_cast<size_t>(batch) && shapes.size() == 2 &&
          shapes[0].colour != shapes[1].colour) {
        Scene twin = s;
        std::swap(twin.scene.shapes[0].colour, twin.scene.shapes[1].colour);
        twin.image = render_demo_scene(twin.scene, kImageSize, rng);
        twin.caption = describe_demo_scene(twin.scene, variant);
        add(twin);
      }
    }
    auto enc = tok.encode_batch(captions, {true, model::Padding::kLongest, 35});
    model::PretrainBatch b;
    b.pixels = torch::tensor(pixels).view({batch, 3, kImageSize, kImageSize});
    b.ids = torch::tensor(enc.input_ids).view({batch, enc.seq_len});
    b.mask = torch::tensor(enc.attention_mask).view({batch, enc.seq_len});
    b.image_ids = torch::arange(step * batch, (step + 1) * batch);
    trainer.step(b);
    if (save_every > 0 && (step + 1) % save_every == 0) {
      model::save_checkpoint(blip, (dir / ("step-" + std::to_string(step + 1))).string());
    }
  }
  const std::string folder = (dir / "filter").string();
  model::save_checkpoint(blip, folder);
  return folder;
}

inline int argmax(const std::vector<float>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Whether grid cell `cell` (of grid x grid) has its centre inside the shape's bounding box grown
// by half a cell.
inline bool cell_on_shape(int cell, int grid, const DemoShape& s) {
  const double cx = (cell % grid + 0.5) / grid, cy = (cell / grid + 0.5) / grid;
  const double reach = s.radius * 1.15 + 0.5 / grid;
  return std::abs(cx - s.x) <= reach && std::abs(cy - s.y) <= reach;
}

inline double box_fraction(int grid, const DemoShape& s) {
  int on = 0;
  for (int c = 0; c < grid * grid; ++c) on += cell_on_shape(c, grid, s);
  return static_cast<double>(on) / (grid * grid);
}

// Where the maps of `word_of(scene)` peak over `scenes` demo scenes with `shapes` shapes (two:
// of different kinds, so the kind word names one of them).
struct Evaluation {
  int tried = 0;
  int on_named = 0;    // the peak cell lies on the shape the word names
  int on_other = 0;    // ... on the other shape (two-shape scenes)
  int nonuniform = 0;  // the map's maximum is at least 1.5 times its mean
  double chance = 0;   // the mean share of cells on the named shape
};

inline Evaluation evaluate(const BlipEngine& engine, int shapes, int scenes, uint32_t seed,
                           int layer = -1) {
  std::mt19937 rng(seed);
  Evaluation e;
  while (e.tried < scenes) {
    const DemoScene scene = sample_demo_scene(rng);
    const RgbImage image = render_demo_scene(scene, kImageSize, rng);
    if (static_cast<int>(scene.shapes.size()) != shapes) continue;
    if (shapes == 2 && scene.shapes[0].kind == scene.shapes[1].kind) continue;
    const std::string caption = describe_demo_scene(scene, 1);
    const DemoShape& named = scene.shapes[0];
    auto images = engine.encode_images({image});
    if (!images) {
      ADD_FAILURE() << images.status().message();
      return e;
    }
    auto cam = engine.itm_gradcam(*images, 0, caption, {layer});
    if (!cam) {
      ADD_FAILURE() << cam.status().message();
      return e;
    }
    const WordHeatMap* word = nullptr;
    for (const auto& w : cam->words) {
      if (w.word == named.kind) word = &w;
    }
    if (!word) {
      ADD_FAILURE() << "no word '" << named.kind << "' in " << caption;
      return e;
    }
    const int grid = cam->grid_rows;
    const auto& heat = word->heat;
    const double mean = std::accumulate(heat.begin(), heat.end(), 0.0) / heat.size();
    e.nonuniform += *std::max_element(heat.begin(), heat.end()) >= 1.5 * mean;
    e.on_named += cell_on_shape(argmax(heat), grid, named);
    if (shapes == 2) e.on_other += cell_on_shape(argmax(heat), grid, scene.shapes[1]);
    e.chance += box_fraction(grid, named);
    ++e.tried;
  }
  e.chance /= std::max(1, e.tried);
  return e;
}

}  // namespace capfilt::core::gradcam_test
