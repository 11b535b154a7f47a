// The per-model embedding index beside a project: built once, reused, rebuilt when the model's
// files or the project's images and captions change; written atomically; a damaged file is
// refused; a build can be cancelled. The model is a fake (no Torch) that counts its calls.

#include "core/embedding_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "test_paths.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;

// Embeddings from the string's hash; counts the images and texts it embedded.
class CountingModel final : public EvalModel {
 public:
  mutable std::atomic<int> images{0}, texts{0};
  Result<std::vector<std::vector<float>>> image_embeddings(
      const std::vector<std::string>& paths) const override {
    images += static_cast<int>(paths.size());
    return embed(paths);
  }
  Result<std::vector<std::vector<float>>> text_embeddings(
      const std::vector<std::string>& t) const override {
    texts += static_cast<int>(t.size());
    return embed(t);
  }
  Result<std::vector<double>> match(const std::vector<std::string>&,
                                    const std::vector<ImageText>& pairs) const override {
    return std::vector<double>(pairs.size(), 0.5);
  }
  Result<std::vector<std::string>> caption(const std::vector<std::string>&) const override {
    return Status::unsupported("no");
  }
  Result<std::vector<std::string>> answer(const std::string&,
                                          const std::vector<std::string>&) const override {
    return Status::unsupported("no");
  }

 private:
  static std::vector<std::vector<float>> embed(const std::vector<std::string>& items) {
    std::vector<std::vector<float>> out;
    for (const auto& s : items) {
      const size_t h = std::hash<std::string>()(s);
      std::vector<float> v = {float(h % 97) + 1, float(h / 97 % 89), float(h / 8633 % 83)};
      const float n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      for (float& x : v) x /= n;
      out.push_back(v);
    }
    return out;
  }
};

class EmbeddingIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(test::kScratchDir) / "embedding-index";
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "model");
    std::ofstream(dir_ / "model" / "model.safetensors") << "weights v1";
    project_ = db::Project::open((dir_ / "p.capfilt").string()).value();
    std::vector<db::ImageWithCaptions> batch;
    for (int k = 0; k < 5; ++k) {
      db::ImageWithCaptions item;
      item.image.path = "img_" + std::to_string(k) + ".png";
      item.captions.push_back({"caption " + std::to_string(k), db::CaptionSource::kWeb, 0});
      item.captions.push_back({"other " + std::to_string(k), db::CaptionSource::kHuman, 0});
      batch.push_back(item);
    }
    ASSERT_TRUE(project_->insert_pairs(batch).is_ok());
  }

  // The header for the project and model as they are now, and their files.
  IndexHeader header(ProjectItems* items, std::vector<std::string>* files) {
    *items = read_project_items(*project_).value();
    files->clear();
    for (const auto& p : items->image_paths) files->push_back((dir_ / p).string());
    IndexHeader h;
    h.model_id = 1;
    h.model = model_stamp((dir_ / "model").string()).value();
    h.data_fingerprint = fingerprint(*items);
    return h;
  }

  Result<OpenedIndex> open(const CountingModel& model, IndexBuildOptions o = {}) {
    ProjectItems items;
    std::vector<std::string> files;
    const IndexHeader h = header(&items, &files);
    return open_or_build_embedding_index(path(), model, items, files, h, o);
  }

  std::string path() const { return embedding_index_path((dir_ / "p.capfilt").string(), 1); }

  fs::path dir_;
  std::unique_ptr<db::Project> project_;
};

TEST_F(EmbeddingIndexTest, BuiltOnceThenReusedFromItsFile) {
  CountingModel model;
  auto first = open(model);
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  EXPECT_FALSE(first->reused);
  EXPECT_EQ(first->rebuilt_because, "no index yet");
  EXPECT_EQ(model.images.load(), 5);
  EXPECT_EQ(model.texts.load(), 10);
  EXPECT_EQ(first->index.images.rows, 5);
  EXPECT_EQ(first->index.texts.rows, 10);
  EXPECT_EQ(first->index.images.dim, 3);
  EXPECT_EQ(path(), (dir_ / "p.capfilt.embeddings" / "1.bin").string());
  EXPECT_TRUE(fs::exists(path()));
  for (const auto& e : fs::directory_iterator(dir_ / "p.capfilt.embeddings"))
    EXPECT_EQ(e.path().extension(), ".bin") << "a temporary file was left: " << e.path();

  auto second = open(model);
  ASSERT_TRUE(second.is_ok());
  EXPECT_TRUE(second->reused);
  EXPECT_EQ(model.images.load(), 5);  // nothing embedded again
  EXPECT_EQ(second->index.images.values, first->index.images.values);
  EXPECT_EQ(second->index.texts.values, first->index.texts.values);
}

TEST_F(EmbeddingIndexTest, ANewCaptionInvalidatesIt) {
  CountingModel model;
  ASSERT_TRUE(open(model).is_ok());
  db::ImageWithCaptions more;
  more.image.path = "img_0.png";  // an existing image, one more caption
  more.captions.push_back({"a new caption", db::CaptionSource::kHuman, 0});
  ASSERT_TRUE(project_->insert_pairs({more}).is_ok());
  auto again = open(model);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(again->reused);
  EXPECT_EQ(again->rebuilt_because,
            "the project's images or captions changed since the index was made");
  EXPECT_EQ(again->index.texts.rows, 11);
  EXPECT_TRUE(open(model)->reused);
}

TEST_F(EmbeddingIndexTest, AChangedModelFileInvalidatesIt) {
  CountingModel model;
  ASSERT_TRUE(open(model).is_ok());
  // Retrained in place: new bytes, a later time.
  std::ofstream(dir_ / "model" / "model.safetensors") << "weights version 2";
  fs::last_write_time(dir_ / "model" / "model.safetensors",
                      fs::file_time_type::clock::now() + std::chrono::seconds(5));
  auto again = open(model);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(again->reused);
  EXPECT_EQ(again->rebuilt_because, "the model's files changed since the index was made");
}

TEST_F(EmbeddingIndexTest, AnotherModelsHeaderIsStale) {
  IndexHeader a;
  a.model_id = 1;
  a.model.path = "/m/filter";
  IndexHeader b = a;
  EXPECT_EQ(stale_reason(a, b), "");
  b.model.path = "/m/other";
  EXPECT_EQ(stale_reason(a, b), "the index was made with another model");
}

TEST_F(EmbeddingIndexTest, ATruncatedFileIsRefusedAndRebuilt) {
  CountingModel model;
  ASSERT_TRUE(open(model).is_ok());
  fs::resize_file(path(), fs::file_size(path()) - 7);
  auto loaded = load_embedding_index(path());
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), Status::Code::kCorrupt);
  auto again = open(model);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(again->reused);
  EXPECT_TRUE(load_embedding_index(path()).is_ok());
}

TEST_F(EmbeddingIndexTest, ACancelledBuildLeavesNoFile) {
  CountingModel model;
  IndexBuildOptions o;
  o.batch_size = 1;
  std::vector<int64_t> seen;
  o.progress = [&](int64_t done, int64_t total) {
    seen.push_back(done);
    EXPECT_EQ(total, 15);
  };
  o.cancelled = [&] { return seen.size() >= 2; };
  auto r = open(model, o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCancelled);
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(fs::exists(path()));
}

}  // namespace
}  // namespace capfilt::core
