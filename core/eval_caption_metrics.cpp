// Captioning metrics: the COCO-style tokenizer, corpus BLEU and CIDEr-D (core/eval_metrics.h).

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/eval_metrics.h"

namespace capfilt::core::eval {
namespace {

bool is_alnum(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u);  // bytes of multi-byte UTF-8 characters count as letters
}
bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}
bool is_dropped_punctuation(char c) {
  return std::string_view(".,?!;:\"`()[]{}-'").find(c) != std::string_view::npos;
}

// The letters right after an apostrophe at `i`, when they form a PTB clitic ending a word.
std::string clitic_after(const std::string& s, size_t i) {
  size_t j = i + 1;
  while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
  if (j < s.size() && is_alnum(s[j])) return {};
  const std::string suffix = s.substr(i + 1, j - i - 1);
  static const char* const kClitics[] = {"s", "re", "ve", "ll", "d", "m", "t"};
  for (const char* c : kClitics) {
    if (suffix == c) return suffix;
  }
  return {};
}

}  // namespace

std::vector<std::string> tokenize_caption(const std::string& text) {
  std::string s = text;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> tokens;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) tokens.push_back(std::move(word));
    word.clear();
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (is_alnum(c)) {
      word += c;
    } else if ((c == '.' || c == ',') && !word.empty() && is_digit(word.back()) && is_digit(next)) {
      word += c;  // 3.5, 1,000
    } else if ((c == '.' || c == '-') && !word.empty() && is_alnum(next)) {
      word += c;  // u.s, t-shirt
    } else if (c == '\'') {
      const std::string clitic = word.empty() ? std::string() : clitic_after(s, i);
      if (clitic == "t" && word.size() > 1 && word.back() == 'n') {  // don't -> do n't
        word.pop_back();
        flush();
        tokens.push_back("n't");
        i += 1;
      } else if (!clitic.empty() && clitic != "t") {  // dog's -> dog 's
        flush();
        tokens.push_back("'" + clitic);
        i += clitic.size();
      } else {
        flush();
      }
    } else if (std::isspace(static_cast<unsigned char>(c)) || is_dropped_punctuation(c)) {
      flush();
    } else {  // # $ % & * + / < = > @ ^ | ~ and other symbols: a token of their own
      flush();
      tokens.emplace_back(1, c);
    }
  }
  flush();
  return tokens;
}

namespace {

using NgramCounts = std::unordered_map<std::string, int>;

// n-grams of length n (1..4) of the words, joined with a separator that cannot occur in a token.
NgramCounts ngram_counts(const std::vector<std::string>& words, int n) {
  NgramCounts counts;
  for (size_t i = 0; i + static_cast<size_t>(n) <= words.size(); ++i) {
    std::string key = words[i];
    for (int k = 1; k < n; ++k) key += '\x1f' + words[i + static_cast<size_t>(k)];
    ++counts[key];
  }
  return counts;
}

int64_t closest_reference_length(const CaptionSample& sample) {
  const auto c = static_cast<int64_t>(sample.candidate.size());
  int64_t best = -1;
  for (const auto& ref : sample.references) {
    const auto r = static_cast<int64_t>(ref.size());
    if (best < 0 || std::abs(r - c) < std::abs(best - c) ||
        (std::abs(r - c) == std::abs(best - c) && r < best)) {
      best = r;
    }
  }
  return std::max<int64_t>(best, 0);
}

}  // namespace

BleuScore corpus_bleu(const std::vector<CaptionSample>& samples) {
  constexpr double kTiny = 1e-15, kSmall = 1e-9;
  double matches[4] = {0, 0, 0, 0}, totals[4] = {0, 0, 0, 0};
  BleuScore out;
  for (const CaptionSample& sample : samples) {
    out.candidate_length += static_cast<int64_t>(sample.candidate.size());
    out.reference_length += closest_reference_length(sample);
    for (int n = 1; n <= 4; ++n) {
      NgramCounts max_ref;
      for (const auto& ref : sample.references) {
        for (const auto& [gram, count] : ngram_counts(ref, n)) {
          max_ref[gram] = std::max(max_ref[gram], count);
        }
      }
      for (const auto& [gram, count] : ngram_counts(sample.candidate, n)) {
        auto it = max_ref.find(gram);
        if (it != max_ref.end()) matches[n - 1] += std::min(count, it->second);
      }
      totals[n - 1] += static_cast<double>(
          std::max<int64_t>(0, static_cast<int64_t>(sample.candidate.size()) - n + 1));
    }
  }
  const double ratio = (static_cast<double>(out.candidate_length) + kTiny) /
                       (static_cast<double>(out.reference_length) + kSmall);
  out.brevity_penalty = ratio < 1 ? std::exp(1 - 1 / ratio) : 1.0;
  double product = 1;
  for (int k = 0; k < 4; ++k) {
    out.precision[k] = (matches[k] + kTiny) / (totals[k] + kSmall);
    product *= out.precision[k];
    out.bleu[k] = std::pow(product, 1.0 / (k + 1)) * out.brevity_penalty;
  }
  return out;
}

namespace {

// The TF-IDF vector of one sentence for n = 1..4, its norms, and its length as the COCO scorer
// measures it (the number of bigrams: its length counter sits under the n == 1 of 0-based n).
struct TfIdf {
  std::unordered_map<std::string, double> weights[4];
  double norm[4] = {0, 0, 0, 0};
  double length = 0;
};

TfIdf tf_idf(const std::vector<std::string>& words,
             const std::unordered_map<std::string, int>& document_frequency, double log_documents) {
  TfIdf v;
  for (int n = 1; n <= 4; ++n) {
    for (const auto& [gram, count] : ngram_counts(words, n)) {
      auto it = document_frequency.find(gram);
      const double df = std::log(std::max(1.0, it == document_frequency.end() ? 0.0 : it->second));
      const double w = count * (log_documents - df);
      v.weights[n - 1][gram] = w;
      v.norm[n - 1] += w * w;
      if (n == 2) v.length += count;
    }
    v.norm[n - 1] = std::sqrt(v.norm[n - 1]);
  }
  return v;
}

// Per-n similarity of candidate and reference, clipped and length-penalised.
void add_similarity(const TfIdf& cand, const TfIdf& ref, double sigma, double* sum) {
  const double delta = cand.length - ref.length;
  const double penalty = std::exp(-(delta * delta) / (2 * sigma * sigma));
  for (int n = 0; n < 4; ++n) {
    double val = 0;
    for (const auto& [gram, w] : cand.weights[n]) {
      auto it = ref.weights[n].find(gram);
      if (it != ref.weights[n].end()) val += std::min(w, it->second) * it->second;
    }
    if (cand.norm[n] != 0 && ref.norm[n] != 0) val /= cand.norm[n] * ref.norm[n];
    sum[n] += val * penalty;
  }
}

}  // namespace

CiderScore cider_d(const std::vector<CaptionSample>& samples, double sigma) {
  std::unordered_map<std::string, int> document_frequency;
  for (const CaptionSample& sample : samples) {
    std::unordered_set<std::string> grams;
    for (const auto& ref : sample.references) {
      for (int n = 1; n <= 4; ++n) {
        for (const auto& entry : ngram_counts(ref, n)) grams.insert(entry.first);
      }
    }
    for (const auto& g : grams) ++document_frequency[g];
  }
  const double log_documents = std::log(static_cast<double>(std::max<size_t>(samples.size(), 1)));
  CiderScore out;
  for (const CaptionSample& sample : samples) {
    const TfIdf cand = tf_idf(sample.candidate, document_frequency, log_documents);
    double sum[4] = {0, 0, 0, 0};
    for (const auto& ref : sample.references) {
      add_similarity(cand, tf_idf(ref, document_frequency, log_documents), sigma, sum);
    }
    double score = (sum[0] + sum[1] + sum[2] + sum[3]) / 4;
    if (!sample.references.empty()) score /= static_cast<double>(sample.references.size());
    out.per_sample.push_back(score * 10);
  }
  for (double s : out.per_sample) out.score += s;
  if (!samples.empty()) out.score /= static_cast<double>(samples.size());
  return out;
}

}  // namespace capfilt::core::eval
