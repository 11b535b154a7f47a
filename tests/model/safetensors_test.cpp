// The torch-free safetensors reader and writer: round trips, the reference files in tests/data, and
// every kind of malformed file (each must be refused with a message naming the file and problem).

#include "model/safetensors.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/error.h"
#include "test_paths.h"

namespace capfilt::model {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<uint8_t> with_header(const std::string& header, const std::vector<uint8_t>& data,
                                 uint64_t declared_len) {
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(declared_len >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

std::vector<uint8_t> with_header(const std::string& header, std::size_t data_bytes) {
  return with_header(header, std::vector<uint8_t>(data_bytes, 0), header.size());
}

std::string write_scratch(const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories(test::kScratchDir);
  const std::string path = std::string(test::kScratchDir) + "/" + name;
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The error message for reading `bytes` from a scratch file; "(no error)" when it loads.
std::string read_error(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = write_scratch(name, bytes);
  try {
    SafetensorsFile::read(path);
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr(path)) << "the message must name the file";
    return msg;
  }
  return "(no error)";
}

TEST(SafetensorsTest, DTypeNamesAndSizes) {
  const std::pair<const char*, std::size_t> expected[] = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  for (const auto& [name, size] : expected) {
    const auto dtype = dtype_from_name(name);
    ASSERT_TRUE(dtype.has_value()) << name;
    EXPECT_STREQ(dtype_name(*dtype), name);
    EXPECT_EQ(dtype_size(*dtype), size);
  }
  EXPECT_FALSE(dtype_from_name("F8_E4M3").has_value());
  EXPECT_FALSE(dtype_from_name("f32").has_value());
}

TEST(SafetensorsTest, RoundTripKeepsBytesShapesAndMetadata) {
  const std::vector<float> a = {1.5f, -2.f, 3.25f, 4.f, 5.f, 6.f};
  const std::vector<int64_t> b = {7, -8};
  const std::vector<uint8_t> c = {1, 0, 1};
  const double scalar = 3.5;
  std::vector<SafetensorsTensorView> views = {
      {"z.weight", DType::kF32, {2, 3}, a.data(), a.size() * 4},
      {"a.ids", DType::kI64, {2}, b.data(), b.size() * 8},
      {"m.mask", DType::kBool, {3}, c.data(), c.size()},
      {"s.scalar", DType::kF64, {}, &scalar, 8},
      {"e.empty", DType::kF16, {0, 4}, nullptr, 0},
  };
  const std::string path = std::string(test::kScratchDir) + "/round_trip.safetensors";
  fs::create_directories(test::kScratchDir);
  write_safetensors(path, views, {{"format", "pt"}, {"note", "ünïcode"}});

  // Header length is a multiple of 8 and the padding is spaces.
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ(header_len % 8, 0u);
  EXPECT_EQ(bytes[8], '{');

  const auto file = SafetensorsFile::read(path);
  ASSERT_EQ(file.entries().size(), 5u);
  std::vector<std::string> names;
  for (const auto& e : file.entries()) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a.ids", "e.empty", "m.mask", "s.scalar", "z.weight"}));
  // Data is laid out in name order.
  EXPECT_EQ(file.find("a.ids")->begin, 0u);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  EXPECT_EQ(file.metadata().at("note"), "ünïcode");

  const auto* w = file.find("z.weight");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, DType::kF32);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->numel(), 6);
  EXPECT_EQ(std::memcmp(file.data(*w), a.data(), 24), 0);
  EXPECT_EQ(std::memcmp(file.data(*file.find("a.ids")), b.data(), 16), 0);
  EXPECT_EQ(std::memcmp(file.data(*file.find("m.mask")), c.data(), 3), 0);
  const auto* s = file.find("s.scalar");
  EXPECT_TRUE(s->shape.empty());
  EXPECT_EQ(s->numel(), 1);
  EXPECT_EQ(std::memcmp(file.data(*s), &scalar, 8), 0);
  EXPECT_EQ(file.find("e.empty")->num_bytes(), 0u);
  EXPECT_EQ(file.find("missing"), nullptr);
}

TEST(SafetensorsTest, ReadsTheReferenceParityCheckpoint) {
  const auto file = SafetensorsFile::read(std::string(test::kTestDataDir) +
                                          "/blip-parity-tiny-vocab/caption/model.safetensors");
  EXPECT_EQ(file.entries().size(), 94u);
  const auto* ids = file.find("text_decoder.bert.embeddings.position_ids");
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(ids->dtype, DType::kI64);
  EXPECT_EQ(ids->shape, (std::vector<int64_t>{1, 64}));
  int64_t third = 0;
  std::memcpy(&third, file.data(*ids) + 2 * 8, 8);
  EXPECT_EQ(third, 2);
}

TEST(SafetensorsTest, WriterRefusesBadInput) {
  const float x = 1.f;
  EXPECT_THROW(serialize_safetensors({{"a", DType::kF32, {2}, &x, 4}}), ModelError);
  EXPECT_THROW(serialize_safetensors({{"a", DType::kF32, {1}, &x, 4}, {"a", DType::kF32, {1}, &x, 4}}),
               ModelError);
  EXPECT_THROW(serialize_safetensors({{"__metadata__", DType::kF32, {1}, &x, 4}}), ModelError);
  EXPECT_THROW(serialize_safetensors({{"", DType::kF32, {1}, &x, 4}}), ModelError);
  EXPECT_THROW(serialize_safetensors({{"a", DType::kF32, {-1}, &x, 4}}), ModelError);
  EXPECT_THROW(serialize_safetensors({{"bad\xff", DType::kF32, {1}, &x, 4}}), ModelError);
  try {
    write_safetensors(std::string(test::kScratchDir) + "/bad_write.safetensors",
                      {{"a", DType::kF32, {3}, &x, 4}});
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad_write.safetensors"));
    EXPECT_THAT(e.what(), HasSubstr("\"a\""));
  }
}

TEST(SafetensorsTest, MalformedFilesAreRefusedWithTheProblem) {
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  EXPECT_EQ(read_error("ok.safetensors", with_header("{" + ok_entry + "}", 8)), "(no error)");

  EXPECT_THAT(read_error("short.safetensors", {1, 2, 3}), HasSubstr("fewer than the 8-byte"));
  EXPECT_THAT(read_error("empty.safetensors", {}), HasSubstr("0 bytes"));
  EXPECT_THAT(read_error("past_end.safetensors", with_header("{}", {}, 4096)),
              HasSubstr("past the end of the file"));
  EXPECT_THAT(read_error("absurd.safetensors", with_header("{}", {}, uint64_t(1) << 60)),
              HasSubstr("absurd"));
  EXPECT_THAT(read_error("bad_json.safetensors", with_header("{\"a\": [", 0)),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(read_error("not_object.safetensors", with_header("[1, 2]", 0)),
              HasSubstr("not a JSON object"));
  EXPECT_THAT(read_error("dtype.safetensors",
                         with_header(R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2)),
              HasSubstr("unknown dtype \"F8\""));
  EXPECT_THAT(read_error("span.safetensors",
                         with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
              HasSubstr("needs 12 bytes but data_offsets span 8"));
  EXPECT_THAT(read_error("negative_dim.safetensors",
                         with_header(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)),
              HasSubstr("negative dimension -2"));
  EXPECT_THAT(read_error("beyond.safetensors",
                         with_header(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8)),
              HasSubstr("past the end of the data"));
  EXPECT_THAT(read_error("reversed.safetensors",
                         with_header(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8)),
              HasSubstr("out of order"));
  EXPECT_THAT(read_error("negative_offset.safetensors",
                         with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8)),
              HasSubstr("negative data offset"));
  EXPECT_THAT(read_error("overlap.safetensors",
                         with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                     12)),
              HasSubstr("overlaps"));
  EXPECT_THAT(read_error("gap.safetensors",
                         with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                     12)),
              HasSubstr("gap of 4 unused bytes"));
  EXPECT_THAT(read_error("trailing.safetensors", with_header("{" + ok_entry + "}", 12)),
              HasSubstr("4 trailing bytes"));
  EXPECT_THAT(read_error("missing_offsets.safetensors",
                         with_header(R"({"a":{"dtype":"F32","shape":[2]}})", 8)),
              HasSubstr("data_offsets must be [begin, end]"));
  EXPECT_THAT(read_error("metadata_type.safetensors",
                         with_header(R"({"__metadata__":{"n":1}})", 0)),
              HasSubstr("not a string"));
}

TEST(SafetensorsTest, AcceptsWhatReferenceFilesContain) {
  // Entries listed out of offset order, zero-sized tensors sharing an offset, header padding,
  // no tensors at all.
  const std::string header =
      R"({"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},)"
      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("e1":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
      R"("e2":{"dtype":"I8","shape":[2,0],"data_offsets":[4,4]}}    )";
  EXPECT_EQ(read_error("unordered.safetensors", with_header(header, 6)), "(no error)");
  EXPECT_EQ(read_error("no_tensors.safetensors", with_header("{}      ", 0)), "(no error)");
}

}  // namespace
}  // namespace capfilt::model
