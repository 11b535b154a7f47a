#include "core/text_negatives.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace capfilt::core {
namespace {

std::vector<std::string> words(const std::string& t) {
  std::istringstream in(t);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

const std::vector<std::string> kBatch = {"a red circle on the left", "a blue square",
                                         "a small green star above a red circle"};

TEST(TextNegatives, SwapsOneWordForOneThatFollowsTheSameWordElsewhereOrAppendsAnotherCaption) {
  std::set<std::string> seen;
  for (uint32_t seed = 0; seed < 200; ++seed) {
    std::mt19937 rng(seed);
    const std::string n = text_negative(kBatch, 0, {kBatch[0]}, rng);
    ASSERT_NE(n, kBatch[0]);
    seen.insert(n);
    const auto w = words(n), own = words(kBatch[0]);
    if (w.size() == own.size()) {  // a swap: exactly one word differs
      int differing = 0;
      for (std::size_t k = 0; k < w.size(); ++k) differing += w[k] != own[k];
      EXPECT_EQ(differing, 1) << n;
    } else {  // another caption appended
      EXPECT_TRUE(n == kBatch[0] + " " + kBatch[1] || n == kBatch[0] + " " + kBatch[2]) << n;
    }
  }
  // "a" is followed by "blue" and "small" in the others, "red" by "circle" only (no change).
  EXPECT_TRUE(seen.count("a blue circle on the left"));
  EXPECT_TRUE(seen.count("a small circle on the left"));
  EXPECT_TRUE(seen.count("a red circle on the left a blue square"));
  EXPECT_FALSE(seen.count("a red square on the left"));  // nothing has "red square"
  for (const std::string& n : seen) EXPECT_EQ(n.find("  "), std::string::npos) << n;
}

TEST(TextNegatives, SameSeedSameRewrite) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::mt19937 a(seed), b(seed);
    EXPECT_EQ(text_negative(kBatch, 2, {kBatch[2]}, a), text_negative(kBatch, 2, {kBatch[2]}, b));
  }
}

TEST(TextNegatives, NeverWritesAnotherCaptionOfTheSameImage) {
  // Swapping "circle" for "square" would give the image's second caption, which is true.
  const std::vector<std::string> batch = {"a red circle", "A red square", "a red square"};
  for (uint32_t seed = 0; seed < 100; ++seed) {
    std::mt19937 rng(seed);
    const std::string n = text_negative(batch, 0, {batch[0], batch[1]}, rng);
    EXPECT_NE(n, "a red square");
    EXPECT_NE(n, "a red circle");
    // The third caption is the same text as the second (case aside), so it is of this image too:
    // nothing is left to swap in or append, and the words are reversed.
    EXPECT_EQ(n, "circle red a");
  }
}

TEST(TextNegatives, ABatchOfOneTextGivesTheWordsReversedOrNothingForOneWord) {
  std::mt19937 rng(1);
  EXPECT_EQ(text_negative({"a red circle", "a red circle"}, 1, {"a red circle"}, rng),
            "circle red a");
  EXPECT_EQ(text_negative({"circle"}, 0, {"circle"}, rng), "");
  EXPECT_EQ(text_negative({""}, 0, {""}, rng), "");
}

}  // namespace
}  // namespace capfilt::core
