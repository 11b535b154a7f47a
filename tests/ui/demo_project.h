#pragma once
// A demo-like project for screenshots and GUI checks, built from core's demo data the way the
// studio's users get one: shapes images, noisy web captions, clean human captions, "synthetic"
// captions (the clean caption, as a good captioner would write), and filter scores that separate
// noisy from clean captions (injected with put_scores; no model runs in the tests).

#include <gtest/gtest.h>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <filesystem>
#include <map>
#include <string>

#include "core/demo_data.h"
#include "core/importer.h"
#include "db/project.h"
#include "ui/thresholds/apply_threshold.h"

namespace capfilt::ui::test {

// Writes the demo data under dir/data and the project dir/demo.capfilt; returns its path.
inline std::string build_demo_project(const std::filesystem::path& dir, int images = 80) {
  const std::filesystem::path data = dir / "data";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  core::DemoDataOptions demo;
  demo.count = images;
  demo.image_size = 128;
  auto made = core::generate_demo_data(data.string(), demo);
  EXPECT_TRUE(made.is_ok()) << made.status().message();
  const std::string path = (dir / "demo.capfilt").string();
  auto project = db::Project::open(path);
  EXPECT_TRUE(project.is_ok());
  db::Project& p = *project.value();
  core::ImportOptions web;
  web.source = db::CaptionSource::kWeb;
  EXPECT_TRUE(core::import_dataset(p, data / "web_train.json", web).is_ok());
  core::ImportOptions human;
  human.source = db::CaptionSource::kHuman;
  EXPECT_TRUE(core::import_dataset(p, data / "human_train.json", human).is_ok());

  QFile labels(QString::fromStdString((data / "ground-truth" / "noise_labels.json").string()));
  EXPECT_TRUE(labels.open(QIODevice::ReadOnly));
  const QJsonArray entries = QJsonDocument::fromJson(labels.readAll()).object()["captions"].toArray();
  std::map<std::string, bool> noisy;  // web caption text -> noisy
  std::vector<db::ImageWithCaptions> synthetic;
  for (const auto& v : entries) {
    const QJsonObject e = v.toObject();
    noisy[e["caption"].toString().toStdString()] = e["noisy"].toBool();
    db::ImageWithCaptions item;
    item.image.path = e["image"].toString().toStdString();
    item.captions.push_back({e["clean_caption"].toString().toStdString(), db::CaptionSource::kSynthetic, 0});
    synthetic.push_back(item);
  }
  EXPECT_TRUE(p.insert_pairs(synthetic).is_ok());

  db::ModelRecord filter;
  filter.name = "demo filter";
  filter.task = "filter";
  const int64_t model = p.add_model(filter).value();
  std::vector<db::Score> scores;
  EXPECT_TRUE(p.for_each_pair({}, [&](const db::PairRow& row) {
                 const double jitter = static_cast<double>((row.caption_id * 7919) % 100) / 100.0;
                 double itm = 0.62 + 0.35 * jitter;
                 if (row.caption.source == db::CaptionSource::kWeb && noisy[row.caption.text])
                   itm = 0.03 + 0.4 * jitter;
                 scores.push_back({row.caption_id, model, itm, 0.1 + 0.3 * itm});
                 return Status::ok();
               }).is_ok());
  EXPECT_TRUE(p.put_scores(scores).is_ok());
  EXPECT_TRUE(apply_threshold(p, 0.3, "filter#1 itm<0.30").is_ok());
  std::vector<db::DecisionInput> reviewed;
  for (int64_t id = 1; id <= 12; id += 3)
    reviewed.push_back({id, id % 2 ? db::Decision::kKeep : db::Decision::kDrop,
                        db::DecisionOrigin::kCurator, "alice", "reviewed"});
  EXPECT_TRUE(p.decide(reviewed).is_ok());
  return path;
}

}  // namespace capfilt::ui::test
