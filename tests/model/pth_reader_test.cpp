// Our own .pth reader (model/pth_reader.h): the layouts torch.save writes for BLIP's checkpoints
// (tests/data/pth, made by make_pth_fixtures.py there), one clear error for every malformed case,
// and every truncation and single-byte corruption of a valid file refused or read, never a crash.

#include "model/pth_reader.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/checkpoint.h"
#include "model/error.h"
#include "model/zip_archive.h"
#include "test_paths.h"

namespace capfilt::model {
namespace {

using ::testing::HasSubstr;

std::string fixture(const std::string& name) { return std::string(test::kTestDataDir) + "/pth/" + name; }

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string error_of(const std::string& path) {
  try {
    read_pth_state_dict(path);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no error)";
}

void expect_the_fixture_state_dict(const NamedTensors& sd) {
  ASSERT_EQ(sd.size(), 12u);
  const auto s0 = torch::arange(12, torch::kFloat32) * 0.5;
  EXPECT_TRUE(torch::equal(sd.at("enc.weight"), s0.slice(0, 0, 6).reshape({2, 3})));
  EXPECT_TRUE(torch::equal(sd.at("enc.weight_t"), s0.slice(0, 0, 6).reshape({2, 3}).t()));
  EXPECT_TRUE(sd.at("enc.weight_t").is_contiguous());
  EXPECT_TRUE(torch::equal(sd.at("enc.bias"), torch::tensor({3.f, 3.5f, 4.f, 4.5f})));
  EXPECT_TRUE(torch::equal(sd.at("enc.strided"), torch::tensor({0.5f, 1.5f, 3.5f, 4.5f}).reshape({2, 2})));
  EXPECT_TRUE(torch::equal(sd.at("enc.broadcast"), torch::full({2, 3}, 5.5f)));
  EXPECT_EQ(sd.at("half").scalar_type(), torch::kFloat16);
  EXPECT_TRUE(torch::equal(sd.at("half").to(torch::kFloat32),
                           torch::tensor({1.5f, -2.f, 0.25f, 65504.f}).reshape({2, 2})));
  EXPECT_EQ(sd.at("text.position_ids").scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(sd.at("text.position_ids"), torch::arange(3, torch::kInt64).unsqueeze(0)));
  EXPECT_EQ(sd.at("bf16").scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(sd.at("bf16").to(torch::kFloat32), torch::tensor({1.f, -3.5f})));
  EXPECT_TRUE(torch::equal(sd.at("flags"), torch::tensor({true, false, true})));
  EXPECT_EQ(sd.at("scalar").dim(), 0);
  EXPECT_EQ(sd.at("scalar").item<float>(), 7.25f);
  EXPECT_EQ(sd.at("empty").sizes(), torch::IntArrayRef({0, 3}));
  EXPECT_TRUE(torch::equal(sd.at("param"), torch::tensor({1.f, 1.5f})));
}

TEST(PthReaderTest, ReadsTheModelEntryOfAFullCheckpoint) {
  // {"model", "optimizer", "config" (bytes, big ints, nested lists), "epoch"}, records aligned.
  expect_the_fixture_state_dict(read_pth_state_dict(fixture("full_checkpoint.pth")));
}

TEST(PthReaderTest, ReadsABareStateDictWithAnotherPrefixUnaligned) {
  expect_the_fixture_state_dict(read_pth_state_dict(fixture("bare_state_dict.pth")));
}

TEST(PthReaderTest, ReadsPickleProtocol4) {
  expect_the_fixture_state_dict(read_pth_state_dict(fixture("protocol4.pth")));
}

TEST(PthReaderTest, ReadsBigEndianStorages) {
  expect_the_fixture_state_dict(read_pth_state_dict(fixture("big_endian.pth")));
}

TEST(PthReaderTest, TorchFreeViewDescribesEveryTensor) {
  const PthStateDict file = PthStateDict::read(fixture("full_checkpoint.pth"));
  ASSERT_EQ(file.tensors().size(), 12u);
  const PthTensor& t = file.tensors()[1];
  EXPECT_EQ(t.name, "enc.weight_t");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t.strides, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(t.storage_numel, 12u);
  EXPECT_EQ(file.tensors()[0].storage, t.storage);  // one storage, two views
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.storage) % 4, 0u);
}

struct MalformedCase {
  const char* file;
  const char* problem;
};

TEST(PthReaderTest, EveryMalformedFileGivesOneClearError) {
  const MalformedCase cases[] = {
      {"unexpected_global.pth", "global posix.system"},
      {"shape_mismatch.pth", "does not fit in the storage"},
      {"too_deep.pth", "nested deeper than 64 levels"},
      {"not_a_tensor.pth", "entry \"x\" is not a tensor"},
      {"missing_storage.pth", "storage \"0\" has no record"},
      {"storage_size_mismatch.pth", "should hold 12 F32 elements, its record has 44 bytes"},
      {"storage_past_end.pth", "run past the end of the archive"},
      {"does_not_exist.pth", "cannot open"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string msg = error_of(fixture(c.file));
    EXPECT_THAT(msg, HasSubstr(fixture(c.file)));
    EXPECT_THAT(msg, HasSubstr(c.problem));
  }
}

TEST(PthReaderTest, Crc32MatchesZipsCheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(zip_crc32(reinterpret_cast<const uint8_t*>(check.data()), check.size()), 0xCBF43926u);
  std::vector<uint8_t> bytes(1000);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  // Eight bytes at a time agrees with the bit-by-bit definition on every length and alignment.
  auto reference = [](const uint8_t* p, std::size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) {
      c ^= p[i];
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
  };
  for (std::size_t start = 0; start < 8; ++start) {
    for (std::size_t n = 0; n <= 40; ++n) EXPECT_EQ(zip_crc32(bytes.data() + start, n), reference(bytes.data() + start, n));
  }
  EXPECT_EQ(zip_crc32(bytes.data(), bytes.size()), 0x17BC2A46u);
}

TEST(PthReaderTest, LegacyAndForeignFilesAreRefused) {
  const std::vector<uint8_t> legacy = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20};
  EXPECT_THROW(PthStateDict::parse(legacy, "legacy.pth"), ModelError);
  try {
    PthStateDict::parse(legacy, "legacy.pth");
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("legacy"));
  }
  const std::string text = "not a zip archive";
  EXPECT_THROW(PthStateDict::parse(std::vector<uint8_t>(text.begin(), text.end()), "junk.pth"), ModelError);
}

TEST(PthReaderTest, EveryTruncationIsAnError) {
  const std::vector<uint8_t> bytes = file_bytes(fixture("full_checkpoint.pth"));
  ASSERT_GT(bytes.size(), 1000u);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    try {
      PthStateDict::parse(std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)), "cut.pth");
      ADD_FAILURE() << "a file cut to " << n << " bytes was read";
    } catch (const ModelError& e) {
      EXPECT_THAT(e.what(), HasSubstr("cut.pth"));
    }
  }
}

// Deterministic smoke run of what the fuzz target (tests/fuzz) does at random: every byte of a
// valid file replaced by three values; the reader either reads the file or throws ModelError.
TEST(PthReaderTest, SingleByteCorruptionsNeverCrash) {
  const std::vector<uint8_t> bytes = file_bytes(fixture("protocol4.pth"));
  std::size_t refused = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t v : {uint8_t(bytes[i] ^ 0x01), uint8_t(0x00), uint8_t(0xFF)}) {
      std::vector<uint8_t> damaged = bytes;
      damaged[i] = v;
      try {
        PthStateDict::parse(std::move(damaged), "damaged.pth");
      } catch (const ModelError&) {
        ++refused;
      }
    }
  }
  EXPECT_GT(refused, bytes.size());  // the CRC alone catches every change inside a record
}

}  // namespace
}  // namespace capfilt::model
