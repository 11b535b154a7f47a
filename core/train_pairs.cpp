#include "core/train_pairs.h"

#include <functional>
#include <limits>
#include <stdexcept>

namespace capfilt::core {

std::string_view TrainPairs::slice(const std::string& arena, const std::vector<uint64_t>& ends,
                                   std::size_t k) {
  const uint64_t begin = k == 0 ? 0 : ends[k - 1];
  return std::string_view(arena).substr(begin, ends[k] - begin);
}

std::size_t TrainPairs::add_image(std::string_view path, int64_t key) {
  const std::size_t h = std::hash<std::string_view>{}(path);
  auto [first, last] = image_by_hash_.equal_range(h);
  for (auto it = first; it != last; ++it) {
    if (slice(path_arena_, path_end_, it->second) == path) return it->second;
  }
  if (image_key_.size() >= std::numeric_limits<uint32_t>::max()) {
    throw std::length_error("more than 4,294,967,294 images in one training selection");
  }
  const auto index = static_cast<uint32_t>(image_key_.size());
  path_arena_.append(path);
  path_end_.push_back(path_arena_.size());
  image_key_.push_back(key < 0 ? static_cast<int64_t>(index) : key);
  image_by_hash_.emplace(h, index);
  return index;
}

void TrainPairs::add_pair(std::size_t image, std::string_view text,
                          const std::vector<std::string>& answers) {
  text_arena_.append(text);
  text_end_.push_back(text_arena_.size());
  pair_image_.push_back(static_cast<uint32_t>(image));
  if (answers.empty() && pair_answers_.empty()) return;
  pair_answers_.resize(pair_image_.size() - 1, answer_end_.size());  // pairs added without any
  for (const std::string& a : answers) {
    answer_arena_.append(a);
    answer_end_.push_back(answer_arena_.size());
  }
  pair_answers_.push_back(answer_end_.size());
}

void TrainPairs::finish() {
  decltype(image_by_hash_)().swap(image_by_hash_);
  if (!pair_answers_.empty()) pair_answers_.resize(pair_image_.size(), answer_end_.size());
  for (std::string* s : {&path_arena_, &text_arena_, &answer_arena_}) s->shrink_to_fit();
  path_end_.shrink_to_fit();
  image_key_.shrink_to_fit();
  text_end_.shrink_to_fit();
  pair_image_.shrink_to_fit();
  answer_end_.shrink_to_fit();
  pair_answers_.shrink_to_fit();
}

std::string_view TrainPairs::path(std::size_t pair) const {
  return slice(path_arena_, path_end_, pair_image_[pair]);
}

std::string_view TrainPairs::text(std::size_t pair) const {
  return slice(text_arena_, text_end_, pair);
}

std::vector<std::string> TrainPairs::answers(std::size_t pair) const {
  std::vector<std::string> out;
  if (pair >= pair_answers_.size()) return out;
  const uint64_t begin = pair == 0 ? 0 : pair_answers_[pair - 1];
  for (uint64_t a = begin; a < pair_answers_[pair]; ++a) {
    out.emplace_back(slice(answer_arena_, answer_end_, a));
  }
  return out;
}

TrainPair TrainPairs::at(std::size_t pair) const {
  return {std::string(path(pair)), std::string(text(pair)), image_key(pair), answers(pair)};
}

std::size_t TrainPairs::bytes() const {
  return path_arena_.capacity() + text_arena_.capacity() + answer_arena_.capacity() +
         8 * (path_end_.capacity() + image_key_.capacity() + text_end_.capacity() +
              answer_end_.capacity() + pair_answers_.capacity()) +
         4 * pair_image_.capacity();
}

}  // namespace capfilt::core
