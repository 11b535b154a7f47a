// Checkpoint I/O with Torch: safetensors round trips of every dtype, strict state-dict loading
// (one error naming every missing, unexpected and wrongly shaped tensor), shared tensors, and
// reading a torch.save-style .pth archive.

#include "model/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/error.h"
#include "test_paths.h"

namespace capfilt::model {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string scratch(const std::string& name) {
  fs::create_directories(test::kScratchDir);
  return std::string(test::kScratchDir) + "/" + name;
}

struct Leaf : torch::nn::Module {
  Leaf() {
    weight = register_parameter("weight", torch::zeros({2, 3}));
    ids = register_buffer("ids", torch::zeros({3}, torch::kInt64));
  }
  torch::Tensor weight, ids;
};

// "shared" is registered under two paths, like a decoder that reuses the encoder's layers.
struct Tree : torch::nn::Module {
  Tree() {
    leaf = register_module("leaf", std::make_shared<Leaf>());
    shared = register_module("enc", torch::nn::Linear(3, 2));
    register_module("dec", shared);
  }
  std::shared_ptr<Leaf> leaf;
  torch::nn::Linear shared{nullptr};
};

NamedTensors full_checkpoint() {
  return {{"leaf.weight", torch::arange(6, torch::kFloat64).reshape({2, 3})},
          {"leaf.ids", torch::tensor({4, 5, 6}, torch::kInt64)},
          {"enc.weight", torch::full({2, 3}, 0.5f)},
          {"enc.bias", torch::tensor({1.f, 2.f})}};
}

std::string strict_error(torch::nn::Module& module, const NamedTensors& tensors) {
  try {
    load_state_dict_strict(module, tensors, "ckpt.safetensors");
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CheckpointTest, RoundTripOfEveryDtype) {
  torch::manual_seed(0);
  NamedTensors tensors;
  tensors["f64"] = torch::randn({3, 2}, torch::kFloat64);
  tensors["f32"] = torch::randn({4}, torch::kFloat32);
  tensors["f16"] = torch::randn({2, 2}, torch::kFloat32).to(torch::kFloat16);
  tensors["bf16"] = torch::randn({5}, torch::kFloat32).to(torch::kBFloat16);
  tensors["i64"] = torch::tensor({-(int64_t(1) << 40), int64_t(7)}, torch::kInt64);
  tensors["i32"] = torch::tensor({-70000, 3}, torch::kInt32);
  tensors["i16"] = torch::tensor({-300, 300}, torch::kInt16);
  tensors["i8"] = torch::tensor({-100, 100}, torch::kInt8);
  tensors["u8"] = torch::tensor({0, 255}, torch::kUInt8);
  tensors["bool"] = torch::tensor({true, false, true}, torch::kBool);
  tensors["scalar"] = torch::tensor(2.5f);
  tensors["empty"] = torch::zeros({0, 3});
  tensors["strided"] = torch::arange(12, torch::kFloat32).reshape({3, 4}).t();  // not contiguous
  const std::string path = scratch("all_dtypes.safetensors");
  save_safetensors(path, tensors, {{"format", "pt"}});

  SafetensorsMetadata metadata;
  const NamedTensors loaded = load_safetensors(path, &metadata);
  EXPECT_EQ(metadata.at("format"), "pt");
  ASSERT_EQ(loaded.size(), tensors.size());
  for (const auto& [name, want] : tensors) {
    SCOPED_TRACE(name);
    const auto& got = loaded.at(name);
    EXPECT_EQ(got.scalar_type(), want.scalar_type());
    EXPECT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(torch::equal(got, want));
  }
}

TEST(CheckpointTest, LoadedTensorsOwnTheirMemory) {
  const std::string path = scratch("owned.safetensors");
  save_safetensors(path, {{"x", torch::ones({4})}});
  NamedTensors loaded = load_safetensors(path);
  fs::remove(path);
  loaded.at("x").add_(1);
  EXPECT_TRUE(torch::equal(loaded.at("x"), torch::full({4}, 2.f)));
}

TEST(CheckpointTest, MalformedFilesThrowNamingTheFile) {
  const std::string path = scratch("bad_bool.safetensors");
  const std::string header = R"({"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})";
  std::ofstream out(path, std::ios::binary);
  const uint64_t len = header.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out << header << '\x01' << '\x02';
  out.close();
  try {
    load_safetensors(path);
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("\"m\""));
  }
  EXPECT_THROW(load_safetensors(scratch("does_not_exist.safetensors")), ModelError);
  EXPECT_THROW(save_safetensors(scratch("complex.safetensors"),
                                {{"c", torch::zeros({2}, torch::kComplexFloat)}}),
               ModelError);
}

TEST(CheckpointTest, StateDictListsSharedTensorsOnce) {
  Tree tree;
  const NamedTensors sd = state_dict(tree);
  std::vector<std::string> names;
  for (const auto& [name, t] : sd) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"enc.bias", "enc.weight", "leaf.ids", "leaf.weight"}));
}

TEST(CheckpointTest, StrictLoadCopiesAndConvertsDtype) {
  Tree tree;
  load_state_dict_strict(tree, full_checkpoint(), "ckpt");
  EXPECT_EQ(tree.leaf->weight.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(tree.leaf->weight, torch::arange(6, torch::kFloat32).reshape({2, 3})));
  EXPECT_TRUE(torch::equal(tree.leaf->ids, torch::tensor({4, 5, 6}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(tree.shared->bias, torch::tensor({1.f, 2.f})));
  EXPECT_TRUE(tree.leaf->weight.requires_grad());

  // The shared tensor may come under either path, or both.
  NamedTensors via_dec = full_checkpoint();
  via_dec.erase("enc.weight");
  via_dec.erase("enc.bias");
  via_dec["dec.weight"] = torch::full({2, 3}, 3.f);
  via_dec["dec.bias"] = torch::zeros({2});
  load_state_dict_strict(tree, via_dec, "ckpt");
  EXPECT_TRUE(torch::equal(tree.shared->weight, torch::full({2, 3}, 3.f)));
  via_dec["enc.weight"] = torch::full({2, 3}, 3.f);
  EXPECT_EQ(strict_error(tree, via_dec), "(no error)");

  // Round trip through a file.
  const std::string path = scratch("tree.safetensors");
  save_safetensors(path, state_dict(tree));
  Tree copy;
  load_state_dict_strict(copy, load_safetensors(path), path);
  EXPECT_TRUE(torch::equal(copy.shared->weight, tree.shared->weight));
  EXPECT_TRUE(torch::equal(copy.leaf->ids, tree.leaf->ids));
}

TEST(CheckpointTest, StrictLoadNamesEveryProblemInOneError) {
  Tree tree;
  NamedTensors bad = full_checkpoint();
  bad.erase("leaf.ids");
  bad.erase("enc.bias");
  bad["leaf.weight"] = torch::zeros({3, 2});
  bad["extra.weight"] = torch::zeros({1});
  bad["leaf.typo"] = torch::zeros({1});
  const torch::Tensor before = tree.shared->weight.detach().clone();
  const std::string msg = strict_error(tree, bad);
  EXPECT_THAT(msg, HasSubstr("ckpt.safetensors"));
  EXPECT_THAT(msg, HasSubstr("2 missing, 2 unexpected, 1 with the wrong shape"));
  EXPECT_THAT(msg, HasSubstr("missing: leaf.ids"));
  EXPECT_THAT(msg, HasSubstr("missing: enc.bias (shared with dec.bias)"));
  EXPECT_THAT(msg, HasSubstr("unexpected: extra.weight"));
  EXPECT_THAT(msg, HasSubstr("unexpected: leaf.typo"));
  EXPECT_THAT(msg, HasSubstr("shape mismatch: leaf.weight: expected [2, 3], found [3, 2]"));
  // Nothing was copied.
  EXPECT_TRUE(torch::equal(tree.shared->weight, before));
  EXPECT_THAT(msg, Not(HasSubstr("missing: leaf.weight")));
  EXPECT_TRUE(torch::equal(tree.leaf->weight, torch::zeros({2, 3})));
}

TEST(CheckpointTest, LoadsTheReferenceParityCheckpoint) {
  const NamedTensors sd =
      load_safetensors(std::string(test::kTestDataDir) + "/blip-parity-tiny-vocab/caption/model.safetensors");
  EXPECT_EQ(sd.size(), 94u);
  const auto& ids = sd.at("text_decoder.bert.embeddings.position_ids");
  EXPECT_EQ(ids.scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(ids, torch::arange(64, torch::kInt64).unsqueeze(0)));
  EXPECT_EQ(sd.at("text_decoder.cls.predictions.bias").sizes(), torch::IntArrayRef({28}));
}

TEST(CheckpointTest, ReadsPthStateDictUnderModel) {
  c10::Dict<std::string, torch::Tensor> model;
  model.insert("visual_encoder.cls_token", torch::arange(4, torch::kFloat32).reshape({1, 1, 4}));
  model.insert("text_encoder.embeddings.position_ids", torch::arange(3, torch::kInt64).unsqueeze(0));
  model.insert("half", torch::ones({2}, torch::kFloat16));
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert(c10::IValue(std::string("model")), c10::IValue(model));
  root.insert(c10::IValue(std::string("epoch")), c10::IValue(int64_t(19)));
  const std::vector<char> bytes = torch::pickle_save(root);
  const std::string path = scratch("model_base.pth");
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

  const NamedTensors sd = read_pth_state_dict(path);
  ASSERT_EQ(sd.size(), 3u);
  EXPECT_TRUE(torch::equal(sd.at("visual_encoder.cls_token"), model.at("visual_encoder.cls_token")));
  EXPECT_EQ(sd.at("text_encoder.embeddings.position_ids").scalar_type(), torch::kInt64);
  EXPECT_EQ(sd.at("half").scalar_type(), torch::kFloat16);

  // A bare state dict (no "model") loads too; garbage does not.
  const std::vector<char> bare = torch::pickle_save(model);
  const std::string bare_path = scratch("bare.pth");
  std::ofstream(bare_path, std::ios::binary).write(bare.data(), static_cast<std::streamsize>(bare.size()));
  EXPECT_EQ(read_pth_state_dict(bare_path).size(), 3u);
  const std::string junk = scratch("junk.pth");
  std::ofstream(junk, std::ios::binary) << "not a zip archive";
  try {
    read_pth_state_dict(junk);
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr(junk));
  }
}

// A file laid out like torch.save({"model": model.state_dict()}), the state dict an OrderedDict
// (tests/data/safetensors/README.md). Some LibTorch releases' unpickler cannot read OrderedDict
// (pytorch/pytorch#100741: 2.x before the fix turns it into None); our own reader
// (model/pth_reader.h) reads it on every LibTorch.
TEST(CheckpointTest, RealTorchSaveStateDictLoadsOrFailsClearly) {
  const std::string path = std::string(test::kTestDataDir) + "/safetensors/ordered_dict_state_dict.pth";
  const NamedTensors sd = read_pth_state_dict(path);
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_TRUE(torch::equal(sd.at("visual_encoder.cls_token"),
                           torch::tensor({0.5f, 1.5f, 2.5f, 3.5f}).reshape({1, 1, 4})));
  EXPECT_TRUE(torch::equal(sd.at("text_encoder.embeddings.position_ids"),
                           torch::arange(3, torch::kInt64).unsqueeze(0)));
}

}  // namespace
}  // namespace capfilt::model
