// The packed pairs of a training job (core/train_pairs.h) and how annotation files become them
// (core/train_data.h).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/import_test_support.h"
#include "core/train_data.h"
#include "core/train_pairs.h"

namespace capfilt::core {
namespace {

using test::ScratchDir;
using test::write_file;

TEST(TrainPairs, EachPathIsOneImageWhereverItComesBack) {
  TrainPairs pairs;
  const std::size_t a = pairs.add_image("/data/a.png");
  const std::size_t b = pairs.add_image("/data/b.png");
  pairs.add_pair(a, "a red circle");
  pairs.add_pair(b, "");  // an empty text is a pair like any other
  pairs.add_pair(pairs.add_image("/data/a.png"), "a circle, red");
  pairs.finish();

  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs.images(), 2u);
  EXPECT_EQ(pairs.path(0), "/data/a.png");
  EXPECT_EQ(pairs.path(1), "/data/b.png");
  EXPECT_EQ(pairs.path(2), "/data/a.png");
  EXPECT_EQ(pairs.text(0), "a red circle");
  EXPECT_EQ(pairs.text(1), "");
  EXPECT_EQ(pairs.text(2), "a circle, red");
  EXPECT_EQ(pairs.image_key(0), pairs.image_key(2));  // ITC positives, never ITM negatives
  EXPECT_NE(pairs.image_key(0), pairs.image_key(1));
  EXPECT_TRUE(pairs.answers(0).empty());
}

TEST(TrainPairs, GivenKeysAreKept) {
  TrainPairs pairs;
  pairs.add_pair(pairs.add_image("x.png", 41), "one");
  pairs.add_pair(pairs.add_image("y.png", 7), "two");
  pairs.add_pair(pairs.add_image("x.png", 99), "three");  // the first key of a path stays
  const TrainPair p = pairs.at(2);
  EXPECT_EQ(p.path, "x.png");
  EXPECT_EQ(p.text, "three");
  EXPECT_EQ(p.image_key, 41);
  EXPECT_EQ(pairs.image_key(1), 7);
}

TEST(TrainPairs, AnswersBelongToTheirQuestion) {
  TrainPairs pairs;
  const std::size_t img = pairs.add_image("q.png");
  pairs.add_pair(img, "no answers yet");
  pairs.add_pair(img, "what colour is it?", {"red", "red", "dark red"});
  pairs.add_pair(img, "none here");
  pairs.add_pair(img, "how many?", {"2"});
  pairs.finish();
  EXPECT_TRUE(pairs.answers(0).empty());
  EXPECT_EQ(pairs.answers(1), (std::vector<std::string>{"red", "red", "dark red"}));
  EXPECT_TRUE(pairs.answers(2).empty());
  EXPECT_EQ(pairs.answers(3), (std::vector<std::string>{"2"}));
  EXPECT_EQ(pairs.at(3).text, "how many?");
}

// What a million-pair job holds: the bytes of its texts and paths and a few offsets per pair.
TEST(TrainPairs, HoldsLittleMoreThanItsText) {
  TrainPairs pairs;
  std::size_t text_bytes = 0, path_bytes = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string path = "/datasets/web/shard-" + std::to_string(i / 1000) + "/image-" +
                             std::to_string(i / 2) + ".jpg";  // two captions per image
    const std::string text = "a caption of image number " + std::to_string(i / 2);
    const std::size_t image = pairs.add_image(path);
    if (i % 2 == 0) path_bytes += path.size();
    text_bytes += text.size();
    pairs.add_pair(image, text);
  }
  pairs.finish();
  EXPECT_EQ(pairs.images(), 10000u);
  // Per pair: a text offset (8) and an image index (4); per image: a path offset and a key (16).
  EXPECT_LE(pairs.bytes(), text_bytes + path_bytes + 20000 * 12 + 10000 * 16 + 64);  // + rounding
  EXPECT_EQ(pairs.text(19999), "a caption of image number 9999");
  EXPECT_EQ(pairs.path(19999), "/datasets/web/shard-19/image-9999.jpg");
}

TEST(TrainData, AnnotationFilesShareImagesAcrossFiles) {
  ScratchDir dir;
  write_file(dir / "a.json",
             R"([{"image": "i/1.png", "caption": "one"},
                 {"image": "i/2.png", "caption": ["two", "deux"]}])");
  write_file(dir / "b.json", R"([{"image": "i/1.png", "caption": "un"}])");
  TrainDataSelection s;
  s.annotation_files = {(dir / "a.json").string(), (dir / "b.json").string()};
  auto pairs = select_training_pairs(s, TrainTask::kPretrain, nullptr);
  ASSERT_TRUE(pairs.is_ok()) << pairs.status().message();
  ASSERT_EQ(pairs->size(), 4u);
  EXPECT_EQ(pairs->images(), 2u);
  EXPECT_EQ(pairs->path(3), (dir.path() / "i/1.png").string());
  EXPECT_EQ(pairs->text(2), "deux");
  EXPECT_EQ(pairs->image_key(0), pairs->image_key(3));
  EXPECT_EQ(pairs->image_key(1), pairs->image_key(2));
  EXPECT_NE(pairs->image_key(0), pairs->image_key(1));
}

TEST(TrainData, VqaEntriesKeepTheirAnswersAndBadOnesNameTheEntry) {
  ScratchDir dir;
  write_file(dir / "vqa.json",
             R"([{"image": "1.png", "question": "what shape?", "answer": ["circle", "round"]},
                 {"image": "1.png", "question": "how many?", "answer": "2"}])");
  TrainDataSelection s;
  s.annotation_files = {(dir / "vqa.json").string()};
  auto pairs = select_training_pairs(s, TrainTask::kVqa, nullptr);
  ASSERT_TRUE(pairs.is_ok()) << pairs.status().message();
  ASSERT_EQ(pairs->size(), 2u);
  EXPECT_EQ(pairs->answers(0), (std::vector<std::string>{"circle", "round"}));
  EXPECT_EQ(pairs->answers(1), (std::vector<std::string>{"2"}));
  EXPECT_EQ(pairs->text(1), "how many?");

  write_file(dir / "bad.json", R"([{"image": "1.png", "question": "why?", "answer": []},
                                    {"image": "2.png", "question": "what?", "answer": ["x"]}])");
  s.annotation_files = {(dir / "bad.json").string()};
  auto bad = select_training_pairs(s, TrainTask::kVqa, nullptr);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("bad.json: entry 0 has no answer"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace capfilt::core
