#include "model/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "model/error.h"
#include "model/unicode_tables.h"

namespace capfilt::model {

namespace {

constexpr std::size_t kMaxCharsPerWord = 100;

const char* const kRequiredTokens[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

// ---- UTF-8 ----------------------------------------------------------------------------------

std::u32string utf8_to_u32(const std::string& text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = s[i];
    int len = 0;
    char32_t cp = 0;
    if (b < 0x80) {
      len = 1, cp = b;
    } else if ((b & 0xE0) == 0xC0 && b >= 0xC2) {
      len = 2, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0 && b <= 0xF4) {
      len = 4, cp = b & 0x07;
    }
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      ok = (s[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if (ok && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
               (cp >= 0xD800 && cp <= 0xDFFF))) {
      ok = false;
    }
    if (!ok) {
      out.push_back(0xFFFD);  // dropped later, as the reference drops U+FFFD
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string u32_to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(cp, out);
  return out;
}

// ---- Character classes (as BertTokenizer's helpers define them) ------------------------------

const unicode::Tables& tables() {
  static const unicode::Tables t = unicode::tables();
  return t;
}

bool in_ranges(char32_t cp, const unicode::CodeRange* ranges, std::size_t size) {
  const auto* end = ranges + size;
  const auto* it = std::upper_bound(ranges, end, cp,
                                    [](char32_t c, const unicode::CodeRange& r) { return c < r.first; });
  return it != ranges && cp <= (it - 1)->last;
}

// _is_whitespace: " ", \t, \n, \r and category Zs.
bool is_whitespace(char32_t cp) {
  return cp == U' ' || cp == U'\t' || cp == U'\n' || cp == U'\r' || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// _is_control: category C* except \t \n \r.
bool is_control(char32_t cp) {
  if (cp == U'\t' || cp == U'\n' || cp == U'\r') return false;
  return in_ranges(cp, tables().control, tables().control_size);
}

// _is_punctuation: the ASCII non-alphanumeric symbols and category P*.
bool is_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  return in_ranges(cp, tables().punctuation, tables().punctuation_size);
}

// _is_chinese_char: the CJK Unified Ideographs blocks (not Hiragana, Katakana or Hangul).
bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Python's str.split() also splits on U+2028/U+2029, which the cleaning step keeps.
bool is_split_space(char32_t cp) { return cp == U' ' || cp == 0x2028 || cp == 0x2029; }

// Python's str.lower() of one character (the reference lowers character by character, so the
// Greek final-sigma rule never applies).
void append_lower(char32_t cp, std::u32string& out) {
  if (cp < 0x80) {
    out.push_back(cp >= U'A' && cp <= U'Z' ? cp + 32 : cp);
    return;
  }
  if (cp == 0x130) {  // İ lowers to i + combining dot above
    out.push_back(U'i');
    out.push_back(0x307);
    return;
  }
  const auto& t = tables();
  const auto* end = t.lower + t.lower_size;
  const auto* it = std::upper_bound(t.lower, end, cp,
                                    [](char32_t c, const unicode::LowerRun& r) { return c < r.first; });
  if (it != t.lower) {
    const auto& run = *(it - 1);
    if (cp <= run.last && (run.stride == 0 || (cp - run.first) % run.stride == 0)) {
      out.push_back(static_cast<char32_t>(static_cast<int64_t>(cp) + run.delta));
      return;
    }
  }
  out.push_back(cp);
}

// _run_strip_accents: NFD, then nonspacing marks (Mn) dropped.
void append_stripped(char32_t cp, std::u32string& out) {
  if (cp >= 0xAC00 && cp <= 0xD7A3) {  // Hangul syllable: algorithmic decomposition into jamo
    const char32_t s = cp - 0xAC00;
    out.push_back(0x1100 + s / (21 * 28));
    out.push_back(0x1161 + (s % (21 * 28)) / 28);
    if (s % 28 != 0) out.push_back(0x11A7 + s % 28);
    return;
  }
  const auto& t = tables();
  if (cp >= 0xC0) {
    const auto* end = t.decomposition + t.decomposition_size;
    const auto* it = std::lower_bound(t.decomposition, end, cp,
                                      [](const unicode::Decomposition& d, char32_t c) { return d.cp < c; });
    if (it != end && it->cp == cp) {
      for (char32_t k : it->kept) {
        if (k != 0) out.push_back(k);
      }
      return;
    }
  }
  if (cp >= 0x300 && in_ranges(cp, t.nonspacing_mark, t.nonspacing_mark_size)) return;
  out.push_back(cp);
}

}  // namespace

// ---- Loading ----------------------------------------------------------------------------------

Tokenizer Tokenizer::from_vocab_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError("vocabulary " + path + ": cannot open the file");
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(line);
  }
  if (in.bad()) throw ModelError("vocabulary " + path + ": read error");
  return from_tokens(tokens, path);
}

Tokenizer Tokenizer::from_tokens(const std::vector<std::string>& tokens, const std::string& source_name) {
  const std::string where = "vocabulary " + source_name;
  if (tokens.empty()) throw ModelError(where + ": the file holds no tokens");
  Tokenizer tok;
  tok.id_to_token_.reserve(tokens.size() + 2);
  tok.token_to_id_.reserve(tokens.size() + 2);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    const std::string line = "line " + std::to_string(i + 1);
    if (token.empty()) throw ModelError(where + ": " + line + " is empty");
    auto [it, inserted] = tok.token_to_id_.emplace(token, static_cast<int64_t>(i));
    if (!inserted) {
      throw ModelError(where + ": " + line + ": token \"" + token + "\" duplicates line " +
                       std::to_string(it->second + 1));
    }
    tok.id_to_token_.push_back(token);
  }
  tok.file_vocab_size_ = tok.size();
  for (const char* required : kRequiredTokens) {
    if (!tok.token_to_id_.count(required)) {
      throw ModelError(where + ": the special token " + required + " is missing");
    }
  }
  for (const char* added : {"[DEC]", "[ENC]"}) {
    if (!tok.token_to_id_.count(added)) {
      tok.token_to_id_.emplace(added, tok.size());
      tok.id_to_token_.push_back(added);
    }
  }
  auto& ids = tok.special_;
  ids.pad = tok.token_to_id_.at("[PAD]");
  ids.unk = tok.token_to_id_.at("[UNK]");
  ids.cls = tok.token_to_id_.at("[CLS]");
  ids.sep = tok.token_to_id_.at("[SEP]");
  ids.mask = tok.token_to_id_.at("[MASK]");
  ids.dec = tok.token_to_id_.at("[DEC]");
  ids.enc = tok.token_to_id_.at("[ENC]");
  for (int64_t id : {ids.pad, ids.unk, ids.cls, ids.sep, ids.mask, ids.dec, ids.enc}) {
    tok.special_tokens_.push_back(utf8_to_u32(tok.id_to_token_[id]));
  }
  return tok;
}

// ---- Tokenizing -------------------------------------------------------------------------------

// BasicTokenizer.tokenize followed by WordPiece, on text that holds no special token.
void Tokenizer::split_words(const std::u32string& text, std::vector<std::string>& out) const {
  // Lower-case, clean (drop NUL, U+FFFD and controls; spaces become " ") and put spaces around
  // CJK ideographs.
  std::u32string lowered;
  lowered.reserve(text.size());
  for (char32_t cp : text) append_lower(cp, lowered);
  std::u32string cleaned;
  cleaned.reserve(lowered.size());
  for (char32_t cp : lowered) {
    if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
    if (is_whitespace(cp)) {
      cleaned.push_back(U' ');
    } else if (is_cjk(cp)) {
      cleaned.push_back(U' ');
      cleaned.push_back(cp);
      cleaned.push_back(U' ');
    } else {
      cleaned.push_back(cp);
    }
  }
  // Per whitespace-separated token: strip accents, split on punctuation (each punctuation
  // character is a word of its own), then WordPiece each word.
  std::u32string word;
  auto flush = [&] {
    if (!word.empty()) wordpiece(word, out);
    word.clear();
  };
  std::u32string stripped;
  std::size_t i = 0;
  while (i < cleaned.size()) {
    while (i < cleaned.size() && is_split_space(cleaned[i])) ++i;
    std::size_t j = i;
    while (j < cleaned.size() && !is_split_space(cleaned[j])) ++j;
    if (j == i) break;
    stripped.clear();
    for (std::size_t k = i; k < j; ++k) append_stripped(cleaned[k], stripped);
    for (char32_t cp : stripped) {
      if (is_punctuation(cp)) {
        flush();
        word.push_back(cp);
        flush();
      } else if (is_split_space(cp) || is_whitespace(cp)) {
        flush();
      } else {
        word.push_back(cp);
      }
    }
    flush();
    i = j;
  }
}

void Tokenizer::wordpiece(const std::u32string& word, std::vector<std::string>& out) const {
  const std::string& unk = id_to_token_[special_.unk];
  if (word.size() > kMaxCharsPerWord) {
    out.push_back(unk);
    return;
  }
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (start < word.size()) {
    std::size_t end = word.size();
    std::string found;
    while (start < end) {
      std::string piece = (start > 0 ? "##" : "") + u32_to_utf8(std::u32string_view(word).substr(start, end - start));
      // Only the file's tokens take part (the reference's WordPiece never sees added tokens).
      auto it = token_to_id_.find(piece);
      if (it != token_to_id_.end() && it->second < file_vocab_size_) {
        found = std::move(piece);
        break;
      }
      --end;
    }
    if (found.empty()) {
      out.push_back(unk);
      return;
    }
    pieces.push_back(std::move(found));
    start = end;
  }
  for (auto& p : pieces) out.push_back(std::move(p));
}

std::vector<std::string> Tokenizer::tokenize(const std::string& text) const {
  const std::u32string u = utf8_to_u32(text);
  std::vector<std::string> out;
  std::u32string segment;
  std::size_t i = 0;
  while (i < u.size()) {
    const std::u32string* special = nullptr;
    for (const auto& s : special_tokens_) {
      if (u.compare(i, s.size(), s) == 0) {
        special = &s;
        break;
      }
    }
    if (special == nullptr) {
      segment.push_back(u[i++]);
      continue;
    }
    split_words(segment, out);
    segment.clear();
    out.push_back(u32_to_utf8(*special));
    i += special->size();
  }
  split_words(segment, out);
  return out;
}

std::vector<int64_t> Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  std::vector<int64_t> ids;
  if (add_special_tokens) ids.push_back(special_.cls);
  for (const auto& token : tokenize(text)) ids.push_back(token_to_id(token));
  if (add_special_tokens) ids.push_back(special_.sep);
  return ids;
}

BatchEncoding Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                      const BatchEncodeOptions& options) const {
  const int64_t reserved = options.add_special_tokens ? 2 : 0;
  if (options.max_length < 0 || (options.max_length > 0 && options.max_length < reserved)) {
    throw ModelError("tokenizer: max_length " + std::to_string(options.max_length) +
                     " cannot hold [CLS] and [SEP]");
  }
  if (options.padding == Padding::kMaxLength && options.max_length == 0) {
    throw ModelError("tokenizer: padding to max_length needs max_length > 0");
  }
  std::vector<std::vector<int64_t>> rows;
  rows.reserve(texts.size());
  std::size_t longest = 0;
  for (const auto& text : texts) {
    std::vector<int64_t> ids = encode(text, false);
    if (options.max_length > 0 && static_cast<int64_t>(ids.size()) > options.max_length - reserved) {
      ids.resize(static_cast<std::size_t>(options.max_length - reserved));
    }
    if (options.add_special_tokens) {
      ids.insert(ids.begin(), special_.cls);
      ids.push_back(special_.sep);
    }
    longest = std::max(longest, ids.size());
    rows.push_back(std::move(ids));
  }
  BatchEncoding batch;
  batch.batch_size = static_cast<int64_t>(rows.size());
  batch.seq_len = options.padding == Padding::kMaxLength ? options.max_length
                                                          : static_cast<int64_t>(longest);
  const auto len = static_cast<std::size_t>(batch.seq_len);
  batch.input_ids.assign(rows.size() * len, special_.pad);
  batch.attention_mask.assign(rows.size() * len, 0);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::copy(rows[r].begin(), rows[r].end(), batch.input_ids.begin() + r * len);
    std::fill_n(batch.attention_mask.begin() + r * len, rows[r].size(), 1);
  }
  return batch;
}

// ---- Decoding ---------------------------------------------------------------------------------

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

// BertTokenizer.convert_tokens_to_string: " ".join(tokens).replace(" ##", "").strip()
std::string join_wordpieces(const std::vector<std::string>& tokens) {
  std::string text;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) text += ' ';
    text += tokens[i];
  }
  replace_all(text, " ##", "");
  const auto first = text.find_first_not_of(" \t\n\r\f\v");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\n\r\f\v");
  return text.substr(first, last - first + 1);
}

// PreTrainedTokenizerBase.clean_up_tokenization.
void clean_up_tokenization(std::string& text) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."},     {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"},   {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"},
  };
  for (const auto& [from, to] : kRules) replace_all(text, from, to);
}

}  // namespace

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  // As PreTrainedTokenizer._decode: tokens added after the file's vocabulary ([DEC], [ENC] for
  // bert-base-uncased) stand apart and are joined with single spaces.
  std::vector<std::string> parts;
  std::vector<std::string> current;
  for (int64_t id : ids) {
    // Like the reference, an id outside the vocabulary is kept as [UNK] even when skipping.
    const bool in_range = id >= 0 && id < size();
    if (skip_special_tokens && in_range && is_special_id(id)) continue;
    const std::string& token = id_to_token(id);
    if (in_range && id >= file_vocab_size_) {
      if (!current.empty()) parts.push_back(join_wordpieces(current));
      current.clear();
      parts.push_back(token);
    } else {
      current.push_back(token);
    }
  }
  if (!current.empty()) parts.push_back(join_wordpieces(current));
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) text += ' ';
    text += parts[i];
  }
  clean_up_tokenization(text);
  return text;
}

const std::string& Tokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= size()) return id_to_token_[special_.unk];
  return id_to_token_[static_cast<std::size_t>(id)];
}

int64_t Tokenizer::token_to_id(const std::string& token) const {
  auto it = token_to_id_.find(token);
  return it == token_to_id_.end() ? special_.unk : it->second;
}

std::vector<std::string> Tokenizer::convert_ids_to_tokens(const std::vector<int64_t>& ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) tokens.push_back(id_to_token(id));
  return tokens;
}

bool Tokenizer::is_special_id(int64_t id) const {
  const auto& s = special_;
  return id == s.pad || id == s.unk || id == s.cls || id == s.sep || id == s.mask || id == s.dec ||
         id == s.enc;
}

}  // namespace capfilt::model
