#pragma once
// The pairs of a training job, packed: every image path once, every text once, in character
// arenas with offsets, so a job holds the bytes of its texts and paths plus 12 bytes a pair and 16
// an image (a vector of TrainPair with its strings took ~0.4 KiB a pair, and a second copy of
// every path went to the loader). Built once, then read-only. Torch-free.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace capfilt::core {

// One pair, materialised for a batch.
struct TrainPair {
  std::string path;   // image file
  std::string text;   // caption, or the question for vqa
  int64_t image_key = 0;  // equal for pairs of the same image (ITC positives, never ITM negatives)
  std::vector<std::string> answers;  // vqa only
};

class TrainPairs {
 public:
  // The image `path` (added if new; a path equal to one added before, anywhere, is the same image)
  // with its key; returns its index. `key` < 0: the image's index is its key.
  std::size_t add_image(std::string_view path, int64_t key = -1);
  // A pair of image `image` (an index add_image returned).
  void add_pair(std::size_t image, std::string_view text, const std::vector<std::string>& answers = {});
  // Frees what building needed (the path index) and spare capacity.
  void finish();

  std::size_t size() const { return pair_image_.size(); }
  std::size_t images() const { return image_key_.size(); }
  std::string_view path(std::size_t pair) const;
  std::string_view text(std::size_t pair) const;
  int64_t image_key(std::size_t pair) const { return image_key_[pair_image_[pair]]; }
  std::vector<std::string> answers(std::size_t pair) const;
  TrainPair at(std::size_t pair) const;
  // Bytes held by the arenas and offset tables (not counting the path index while building).
  std::size_t bytes() const;

 private:
  static std::string_view slice(const std::string& arena, const std::vector<uint64_t>& ends,
                                std::size_t k);

  std::string path_arena_, text_arena_, answer_arena_;
  std::vector<uint64_t> path_end_;       // per image: end of its path in path_arena_
  std::vector<int64_t> image_key_;       // per image
  std::vector<uint64_t> text_end_;       // per pair: end of its text in text_arena_
  std::vector<uint32_t> pair_image_;     // per pair: its image
  std::vector<uint64_t> answer_end_;     // per answer: end in answer_arena_
  std::vector<uint64_t> pair_answers_;   // per pair (vqa only): end of its answers in answer_end_
  std::unordered_multimap<std::size_t, uint32_t> image_by_hash_;  // path hash -> images; building only
};

}  // namespace capfilt::core
