#pragma once
// The CapFilt tests' common ground: a small demo dataset and a tiny (untrained) BLIP made once per
// test process in its own scratch folder, fresh projects of the demo's web and human pairs, and a
// snapshot of what CapFilt leaves in a project (captions, scores, current decisions by image).

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/blip_engine.h"
#include "core/capfilt_run.h"
#include "core/demo_data.h"
#include "core/importer.h"
#include "core/model_registry.h"
#include "db/project.h"
#include "model/config.h"
#include "model/hf_import.h"
#include "test_paths.h"

namespace capfilt::core::test_support {

namespace fs = std::filesystem;

inline const std::string kVocab = std::string(test::kResourcesDir) + "/bert-base-uncased/vocab.txt";

// One row of a project as CapFilt leaves it.
struct Row {
  std::string source, text, decision;
  double itm = -1;
};
using Snapshot = std::map<std::string, std::vector<Row>>;  // by image path

class CapfiltFixture : public ::testing::Test {
 protected:
  // The demo data and the tiny model under the scratch folder `name`.
  static void make_data_and_model(const std::string& name) {
    root_ = test::kScratchDir + "/" + name;
    fs::remove_all(root_);
    DemoDataOptions demo;
    demo.count = 24;
    demo.image_size = 64;
    demo.seed = 5;
    ASSERT_TRUE(generate_demo_data(root_ + "/data", demo).is_ok());
    torch::manual_seed(0);
    model::Blip blip(model::preset("tiny"));
    model::save_checkpoint(blip, root_ + "/model");
  }

  // A fresh project with the demo's web and human training pairs.
  std::unique_ptr<db::Project> make_project(const std::string& name) {
    const std::string path = root_ + "/" + name + ".capfilt";
    fs::remove(path);
    auto project = db::Project::open(path);
    EXPECT_TRUE(project.is_ok());
    ImportOptions web;
    web.source = db::CaptionSource::kWeb;
    EXPECT_TRUE(import_dataset(*project.value(), root_ + "/data/web_train.json", web).is_ok());
    ImportOptions human;
    human.source = db::CaptionSource::kHuman;
    EXPECT_TRUE(import_dataset(*project.value(), root_ + "/data/human_train.json", human).is_ok());
    return std::move(project).value();
  }

  static std::unique_ptr<db::Project> reopen(const std::string& name) {
    return db::Project::open(root_ + "/" + name + ".capfilt").value();
  }

  static std::unique_ptr<BlipEngine> engine() {
    auto e = BlipEngine::open({root_ + "/model", kVocab, "cpu"});
    EXPECT_TRUE(e.is_ok()) << e.status().message();
    return std::move(e).value();
  }

  // Runs that a test compares row for row caption one image per batch. The other images of a
  // batch change the GEMM shapes and padded lengths, so OpenBLAS's sums differ in the last bits,
  // and the random weights leave near-ties that nucleus sampling breaks either way (seen on this
  // machine: one image's caption in a shard against the unsharded run). One image a batch gives
  // every image the same arithmetic in a shard, a resumed run and an uninterrupted one.
  static constexpr int kComparedBatch = 1;

  static CapfiltRunOptions options() {
    CapfiltRunOptions o;  // nucleus sampling, as CapFilt runs by default: seeded per image
    o.caption.max_length = 12;
    o.caption.min_length = 4;
    o.batch_images = 4;
    o.loader_workers = 1;
    return o;
  }

  static CapfiltModels models(db::Project& project, const BlipEngine& engine) {
    CapfiltModels m;
    m.captioner = m.filter = &engine;
    m.captioner_id = register_model(project, engine.info(), "captioner").value();
    m.filter_id = m.captioner_id;
    return m;
  }

  static Snapshot snapshot(db::Project& project, int64_t filter_id) {
    Snapshot s;
    db::PairFilter f;
    f.score_model_id = filter_id;
    EXPECT_TRUE(project
                    .for_each_pair(f,
                                   [&](const db::PairRow& r) {
                                     s[r.image.path].push_back(
                                         {db::to_string(r.caption.source), r.caption.text,
                                          db::to_string(r.decision), r.itm.value_or(-1)});
                                     return Status::ok();
                                   })
                    .is_ok());
    return s;
  }

  static void expect_same(const Snapshot& a, const Snapshot& b) {
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [path, rows] : a) {
      const auto& other = b.at(path);
      ASSERT_EQ(rows.size(), other.size()) << path;
      for (size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].source, other[i].source) << path;
        EXPECT_EQ(rows[i].text, other[i].text) << path;
        EXPECT_EQ(rows[i].decision, other[i].decision) << path << " " << rows[i].text;
        EXPECT_NEAR(rows[i].itm, other[i].itm, 1e-4) << path << " " << rows[i].text;
      }
    }
  }

  static inline std::string root_;
};

}  // namespace capfilt::core::test_support
