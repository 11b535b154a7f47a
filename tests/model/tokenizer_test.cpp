// The tokenizer against the reference slow BertTokenizer (tests/data/tokenizer/, 32 tricky strings
// with tokens, ids, decoded text and batches) and against malformed vocabulary files.

#include "model/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/error.h"
#include "test_paths.h"

namespace capfilt::model {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

std::string vocab_path() {
  return std::string(test::kResourcesDir) + "/bert-base-uncased/vocab.txt";
}

const Tokenizer& bert() {
  static const Tokenizer tok = Tokenizer::from_vocab_file(vocab_path());
  return tok;
}

const json& cases() {
  static const json j = [] {
    std::ifstream in(std::string(test::kTestDataDir) + "/tokenizer/bert-base-uncased-cases.json");
    return json::parse(in);
  }();
  return j;
}

std::string scratch_file(const std::string& name, const std::string& content) {
  fs::create_directories(test::kScratchDir);
  const std::string path = std::string(test::kScratchDir) + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string load_error(const std::string& path) {
  try {
    Tokenizer::from_vocab_file(path);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TokenizerTest, SpecialIdsMatchReference) {
  const auto& ids = bert().special_ids();
  const auto& want = cases().at("special_ids");
  EXPECT_EQ(ids.pad, want.at("[PAD]").get<int64_t>());
  EXPECT_EQ(ids.unk, want.at("[UNK]").get<int64_t>());
  EXPECT_EQ(ids.cls, want.at("[CLS]").get<int64_t>());
  EXPECT_EQ(ids.sep, want.at("[SEP]").get<int64_t>());
  EXPECT_EQ(ids.mask, want.at("[MASK]").get<int64_t>());
  EXPECT_EQ(ids.dec, want.at("[DEC]").get<int64_t>());
  EXPECT_EQ(ids.enc, want.at("[ENC]").get<int64_t>());
  EXPECT_EQ(bert().size(), cases().at("len_tokenizer").get<int64_t>());
}

TEST(TokenizerTest, EveryReferenceCase) {
  const auto& all = cases().at("cases");
  ASSERT_EQ(all.size(), 32u);
  for (const auto& c : all) {
    const std::string text = c.at("text");
    SCOPED_TRACE("text: " + text);
    EXPECT_EQ(bert().tokenize(text), c.at("tokens").get<std::vector<std::string>>());
    EXPECT_EQ(bert().encode(text, true), c.at("ids").get<std::vector<int64_t>>());
    const auto plain = bert().encode(text, false);
    EXPECT_EQ(plain, c.at("ids_no_special").get<std::vector<int64_t>>());
    EXPECT_EQ(bert().decode(plain, true), c.at("decoded_skip_special").get<std::string>());
  }
}

TEST(TokenizerTest, DecodeCases) {
  for (const auto& c : cases().at("decode_cases")) {
    const auto ids = c.at("ids").get<std::vector<int64_t>>();
    SCOPED_TRACE(c.at("decode_keep_special").get<std::string>());
    EXPECT_EQ(bert().convert_ids_to_tokens(ids),
              c.at("convert_ids_to_tokens").get<std::vector<std::string>>());
    EXPECT_EQ(bert().decode(ids, true), c.at("decode_skip_special").get<std::string>());
    EXPECT_EQ(bert().decode(ids, false), c.at("decode_keep_special").get<std::string>());
  }
}

void expect_batch(const BatchEncoding& got, const json& want) {
  const auto ids = want.at("input_ids").get<std::vector<std::vector<int64_t>>>();
  const auto mask = want.at("attention_mask").get<std::vector<std::vector<int64_t>>>();
  ASSERT_EQ(got.batch_size, static_cast<int64_t>(ids.size()));
  ASSERT_EQ(got.seq_len, static_cast<int64_t>(ids[0].size()));
  std::vector<int64_t> flat_ids, flat_mask;
  for (const auto& row : ids) flat_ids.insert(flat_ids.end(), row.begin(), row.end());
  for (const auto& row : mask) flat_mask.insert(flat_mask.end(), row.begin(), row.end());
  EXPECT_EQ(got.input_ids, flat_ids);
  EXPECT_EQ(got.attention_mask, flat_mask);
}

TEST(TokenizerTest, BatchPaddedToMaxLengthLikeItm) {
  const auto& want = cases().at("itm_style_max_length_35");
  BatchEncodeOptions options;
  options.padding = Padding::kMaxLength;
  options.max_length = 35;
  expect_batch(bert().encode_batch(want.at("texts").get<std::vector<std::string>>(), options), want);
}

TEST(TokenizerTest, BatchPaddedToLongestLikeVqa) {
  const auto& want = cases().at("vqa_style_longest");
  expect_batch(bert().encode_batch(want.at("texts").get<std::vector<std::string>>()), want);
}

TEST(TokenizerTest, TruncationKeepsSepLast) {
  const auto& want = cases().at("truncation_35");
  BatchEncodeOptions options;
  options.max_length = 35;
  const auto got = bert().encode_batch({want.at("text").get<std::string>()}, options);
  EXPECT_EQ(got.seq_len, 35);
  EXPECT_EQ(got.input_ids, want.at("input_ids").get<std::vector<int64_t>>());
  EXPECT_EQ(got.attention_mask, std::vector<int64_t>(35, 1));
}

TEST(TokenizerTest, BatchWithoutSpecialTokensAndEmptyBatch) {
  BatchEncodeOptions options;
  options.add_special_tokens = false;
  options.max_length = 2;
  const auto got = bert().encode_batch({"a picture of", "a"}, options);
  EXPECT_EQ(got.seq_len, 2);
  EXPECT_EQ(got.input_ids, (std::vector<int64_t>{1037, 3861, 1037, 0}));
  EXPECT_EQ(got.attention_mask, (std::vector<int64_t>{1, 1, 1, 0}));
  const auto empty = bert().encode_batch({});
  EXPECT_EQ(empty.batch_size, 0);
  EXPECT_TRUE(empty.input_ids.empty());
}

TEST(TokenizerTest, InvalidBatchOptionsThrow) {
  BatchEncodeOptions options;
  options.padding = Padding::kMaxLength;
  EXPECT_THROW(bert().encode_batch({"a"}, options), ModelError);
  options.max_length = 1;
  EXPECT_THROW(bert().encode_batch({"a"}, options), ModelError);
}

TEST(TokenizerTest, MoreAccentsAndCases) {
  // Latin Extended, Greek tonos, Cyrillic breve, Turkish dotted capital I, Angstrom/Kelvin signs.
  EXPECT_THAT(bert().tokenize("ŁÓDŹ"), ElementsAre("łodz"));
  EXPECT_THAT(bert().tokenize("Ἀθῆναι"), ElementsAre("α", "##θ", "##η", "##ν", "##α", "##ι"));
  EXPECT_THAT(bert().tokenize("Йога"), ElementsAre("и", "##о", "##г", "##а"));
  EXPECT_EQ(bert().tokenize("İstanbul"), bert().tokenize("istanbul"));
  EXPECT_EQ(bert().tokenize("\u212B"), bert().tokenize("a"));
  EXPECT_EQ(bert().tokenize("Crème Brûlée"), bert().tokenize("creme brulee"));
  // A special token glued to text still splits; a wrongly cased one does not count.
  EXPECT_THAT(bert().tokenize("cat[SEP]dog [Sep]"),
              ElementsAre("cat", "[SEP]", "dog", "[", "sep", "]"));
  // Invalid UTF-8 is dropped like U+FFFD.
  EXPECT_THAT(bert().tokenize(std::string("dog\xff\xfe") + "s"), ElementsAre("dogs"));
}

TEST(TokenizerTest, DecodeOutOfRangeIdIsUnk) {
  EXPECT_EQ(bert().decode({1037, 999999, 4937}, true), "a [UNK] cat");
  EXPECT_EQ(bert().id_to_token(-1), "[UNK]");
  EXPECT_EQ(bert().token_to_id("no-such-token"), 100);
}

TEST(TokenizerTest, TinyVocabKeepsDecAndEncFromTheFile) {
  const auto tok = Tokenizer::from_vocab_file(std::string(test::kTestDataDir) +
                                              "/blip-parity-tiny-vocab/tiny_vocab.txt");
  EXPECT_EQ(tok.size(), 28);
  const auto& ids = tok.special_ids();
  EXPECT_EQ(ids.pad, 0);
  EXPECT_EQ(ids.unk, 1);
  EXPECT_EQ(ids.cls, 2);
  EXPECT_EQ(ids.sep, 3);
  EXPECT_EQ(ids.mask, 4);
  EXPECT_EQ(ids.dec, 26);
  EXPECT_EQ(ids.enc, 27);
  EXPECT_THAT(tok.tokenize("[DEC] A picture of two cats sitting, dogs playing?"),
              ElementsAre("[DEC]", "a", "picture", "of", "two", "cat", "##s", "sitting", ",", "dogs",
                          "playing", "?"));
  EXPECT_THAT(tok.encode("how many zebras"), ElementsAre(2, 21, 22, 1, 3));
  EXPECT_EQ(tok.decode({26, 5, 6, 7, 8, 24, 9, 3, 0}, true), "a picture of cats sitting");
  EXPECT_EQ(tok.decode({26, 5, 3, 0}, false), "[DEC] a [SEP] [PAD]");
}

TEST(TokenizerTest, AddsDecAndEncAfterTheFileVocabulary) {
  const auto tok =
      Tokenizer::from_tokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "dog", "##s"}, "mem");
  EXPECT_EQ(tok.size(), 9);
  EXPECT_EQ(tok.special_ids().dec, 7);
  EXPECT_EQ(tok.special_ids().enc, 8);
  EXPECT_THAT(tok.encode("[ENC] dogs", true), ElementsAre(2, 8, 5, 6, 3));
  // WordPiece never uses the added tokens: "[DEC]" inside a word is a special token, "dec" is not.
  EXPECT_THAT(tok.tokenize("dec"), ElementsAre("[UNK]"));
  EXPECT_EQ(tok.decode({7, 5, 6}, false), "[DEC] dogs");
}

TEST(TokenizerTest, MalformedVocabulariesNameFileAndLine) {
  const std::string missing = std::string(test::kScratchDir) + "/no-such-vocab.txt";
  EXPECT_THAT(load_error(missing), HasSubstr(missing));
  EXPECT_THAT(load_error(missing), HasSubstr("cannot open"));

  const std::string empty = scratch_file("empty_vocab.txt", "");
  EXPECT_THAT(load_error(empty), HasSubstr(empty));
  EXPECT_THAT(load_error(empty), HasSubstr("no tokens"));

  const std::string blank = scratch_file("blank_vocab.txt", "[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n[MASK]\n");
  EXPECT_THAT(load_error(blank), HasSubstr(blank));
  EXPECT_THAT(load_error(blank), HasSubstr("line 3 is empty"));

  const std::string dup =
      scratch_file("dup_vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ndog\ncat\ndog\n");
  EXPECT_THAT(load_error(dup), HasSubstr(dup));
  EXPECT_THAT(load_error(dup), HasSubstr("line 8"));
  EXPECT_THAT(load_error(dup), HasSubstr("\"dog\" duplicates line 6"));

  for (const char* required : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    std::string content;
    for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "dog"}) {
      if (std::string(t) != required) content += std::string(t) + "\n";
    }
    const std::string path = scratch_file("missing_special_vocab.txt", content);
    EXPECT_THAT(load_error(path), HasSubstr(std::string(required) + " is missing"));
    EXPECT_THAT(load_error(path), HasSubstr(path));
  }
}

TEST(TokenizerTest, WindowsLineEndingsAreAccepted) {
  const std::string path =
      scratch_file("crlf_vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\ndog\r\n");
  const auto tok = Tokenizer::from_vocab_file(path);
  EXPECT_THAT(tok.encode("dog"), ElementsAre(2, 5, 3));
}

}  // namespace
}  // namespace capfilt::model
