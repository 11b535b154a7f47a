#include "core/text_negatives.h"

#include <cctype>
#include <set>
#include <sstream>
#include <utility>

#include "core/random_util.h"

namespace capfilt::core {
namespace {

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(std::move(w));
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// The comparison key of a text: its words, lower case, single-spaced.
std::string key_of(const std::string& text) {
  return lower(joined(words_of(text)));
}

struct Swap {
  std::size_t position;
  std::string word;
};

// Every swap of one word of `words` for a word that follows the same word (or starts the caption,
// for the first) in another caption.
std::vector<Swap> swaps_for(const std::vector<std::string>& words,
                            const std::vector<std::vector<std::string>>& others) {
  std::vector<Swap> out;
  for (std::size_t k = 0; k < words.size(); ++k) {
    const std::string before = k == 0 ? std::string() : lower(words[k - 1]);
    const std::string here = lower(words[k]);
    for (const auto& other : others) {
      for (std::size_t m = 0; m < other.size(); ++m) {
        const std::string other_before = m == 0 ? std::string() : lower(other[m - 1]);
        if (other_before == before && lower(other[m]) != here) out.push_back({k, other[m]});
      }
    }
  }
  return out;
}

}  // namespace

std::string text_negative(const std::vector<std::string>& captions, std::size_t i,
                          const std::vector<std::string>& same_image, std::mt19937& rng) {
  const std::vector<std::string> words = words_of(captions.at(i));
  std::set<std::string> taken;
  for (const std::string& t : same_image) taken.insert(key_of(t));
  taken.insert(key_of(captions[i]));

  std::vector<std::vector<std::string>> others;
  std::vector<std::string> other_texts;
  for (std::size_t j = 0; j < captions.size(); ++j) {
    if (j == i || taken.count(key_of(captions[j]))) continue;
    others.push_back(words_of(captions[j]));
    other_texts.push_back(joined(others.back()));
  }
  std::vector<std::string> swapped;
  for (const Swap& s : swaps_for(words, others)) {
    std::vector<std::string> w = words;
    w[s.position] = s.word;
    std::string text = joined(w);
    if (!taken.count(lower(text))) swapped.push_back(std::move(text));
  }
  std::vector<std::string> appended;
  for (const std::string& other : other_texts) {
    std::string text = joined(words) + (words.empty() ? "" : " ") + other;
    if (!taken.count(lower(text))) appended.push_back(std::move(text));
  }
  const bool swap_first = bernoulli(rng, 0.5);
  for (const std::vector<std::string>* pool :
       swap_first ? std::vector{&swapped, &appended} : std::vector{&appended, &swapped}) {
    if (!pool->empty()) return (*pool)[uniform_int(rng, 0, static_cast<int>(pool->size()) - 1)];
  }
  std::vector<std::string> reversed(words.rbegin(), words.rend());
  std::string text = joined(reversed);
  return taken.count(lower(text)) ? std::string() : text;
}

}  // namespace capfilt::core
