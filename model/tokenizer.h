#pragma once
// BERT WordPiece tokenizer equal to Hugging Face's slow BertTokenizer for bert-base-uncased as BLIP
// uses it: text cleaned (control characters, NUL and U+FFFD dropped, every Unicode space made " "),
// CJK ideographs split into single tokens, lower-cased, accents stripped (NFD, combining marks
// dropped), split on punctuation, then greedy longest-match WordPiece with "##" continuation pieces;
// a word longer than 100 characters becomes [UNK]. [DEC] and [ENC] are appended to the vocabulary
// (ids 30522 and 30523 for bert-base-uncased) unless the file already holds them. Special tokens
// written in the text ([CLS], [SEP], [PAD], [UNK], [MASK], [DEC], [ENC], exact case) are never split.
//
// Torch-free on purpose: core/ and the UI may include it. A Tokenizer is immutable after loading, so
// one instance may be shared by any number of threads. Text is UTF-8; invalid bytes become U+FFFD
// (and so are dropped).

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace capfilt::model {

struct SpecialTokenIds {
  int64_t pad = 0;
  int64_t unk = 0;
  int64_t cls = 0;
  int64_t sep = 0;
  int64_t mask = 0;
  int64_t dec = 0;  // BLIP's decoder start token, replaces [CLS] for captioning.
  int64_t enc = 0;  // BLIP's image-grounded encoder token, replaces [CLS] for ITM / VQA.
};

enum class Padding {
  kLongest,    // pad every row to the longest row of the batch (after truncation)
  kMaxLength,  // pad every row to BatchEncodeOptions::max_length
};

struct BatchEncodeOptions {
  bool add_special_tokens = true;  // [CLS] ... [SEP]
  Padding padding = Padding::kLongest;
  // > 0: rows longer than this are truncated (keeping [SEP] last when special tokens are added).
  // Required (> 0) with Padding::kMaxLength.
  int64_t max_length = 0;
};

// Row-major [batch_size, seq_len] ids and mask (1 = token, 0 = padding), padded on the right with
// [PAD]. Plain vectors so callers without Torch can use them; torch::from_blob wraps them.
struct BatchEncoding {
  int64_t batch_size = 0;
  int64_t seq_len = 0;
  std::vector<int64_t> input_ids;
  std::vector<int64_t> attention_mask;
};

class Tokenizer {
 public:
  // Reads a vocab.txt (one token per line, id = line index; a trailing "\r" is ignored). Throws
  // ModelError naming the file (and the line) when it cannot be read, is empty, has an empty or
  // duplicate token, or lacks [PAD], [UNK], [CLS], [SEP] or [MASK].
  static Tokenizer from_vocab_file(const std::string& path);
  // Same from tokens already in memory; `source_name` names them in error messages.
  static Tokenizer from_tokens(const std::vector<std::string>& tokens, const std::string& source_name);

  // Vocabulary size including appended [DEC]/[ENC] (30524 for bert-base-uncased).
  int64_t size() const { return static_cast<int64_t>(id_to_token_.size()); }
  const SpecialTokenIds& special_ids() const { return special_; }

  // Tokens as the slow BertTokenizer's tokenize() returns them (no [CLS]/[SEP] added).
  std::vector<std::string> tokenize(const std::string& text) const;
  // Ids of tokenize(text), wrapped in [CLS] ... [SEP] when add_special_tokens.
  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens = true) const;
  // Encodes, truncates and pads a batch. Throws ModelError on invalid options (kMaxLength without
  // max_length, or max_length too small to hold [CLS] and [SEP]).
  BatchEncoding encode_batch(const std::vector<std::string>& texts,
                             const BatchEncodeOptions& options = {}) const;

  // Text as Hugging Face's decode(ids, skip_special_tokens) returns it: "##" pieces joined, spaces
  // before . , ! ? and in "n't", "'s", ... removed (clean_up_tokenization_spaces). Ids outside the
  // vocabulary decode as [UNK].
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = true) const;

  // Token for an id ([UNK] when out of range) and id for a token ([UNK]'s id when unknown).
  const std::string& id_to_token(int64_t id) const;
  int64_t token_to_id(const std::string& token) const;
  std::vector<std::string> convert_ids_to_tokens(const std::vector<int64_t>& ids) const;
  bool is_special_id(int64_t id) const;

 private:
  Tokenizer() = default;
  void split_words(const std::u32string& text, std::vector<std::string>& out) const;
  void wordpiece(const std::u32string& word, std::vector<std::string>& out) const;

  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int64_t> token_to_id_;
  int64_t file_vocab_size_ = 0;  // tokens read from the file; ids >= this were appended
  SpecialTokenIds special_;
  std::vector<std::u32string> special_tokens_;  // matched verbatim in text, never split
};

}  // namespace capfilt::model
