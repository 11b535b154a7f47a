#include "model/synthetic_data.h"

#include <array>
#include <random>

#include "model/error.h"

namespace capfilt::model {
namespace {

struct Colour {
  const char* name;
  std::array<float, 3> rgb;
};

const std::array<Colour, 6> kShapeColours = {{{"red", {0.9f, 0.1f, 0.1f}},
                                              {"green", {0.1f, 0.75f, 0.2f}},
                                              {"blue", {0.1f, 0.2f, 0.9f}},
                                              {"yellow", {0.95f, 0.9f, 0.1f}},
                                              {"purple", {0.6f, 0.1f, 0.7f}},
                                              {"orange", {1.0f, 0.55f, 0.0f}}}};
const std::array<Colour, 4> kBackgrounds = {{{"white", {1.0f, 1.0f, 1.0f}},
                                             {"black", {0.0f, 0.0f, 0.0f}},
                                             {"gray", {0.5f, 0.5f, 0.5f}},
                                             {"pink", {1.0f, 0.75f, 0.8f}}}};
const std::array<const char*, 4> kShapes = {"circle", "square", "triangle", "cross"};

constexpr int64_t kCombinations =
    static_cast<int64_t>(kShapeColours.size() * kBackgrounds.size() * kShapes.size());

// Boolean [S, S] mask of `shape` centred at (cx, cy) with half-size r (pixel units).
torch::Tensor shape_mask(const std::string& shape, int64_t size, float cx, float cy, float r) {
  const torch::Tensor coords = torch::arange(size, torch::kFloat) + 0.5f;
  const torch::Tensor y = coords.view({-1, 1}).expand({size, size}) - cy;
  const torch::Tensor x = coords.view({1, -1}).expand({size, size}) - cx;
  if (shape == "circle") return (x * x + y * y).le(r * r);
  if (shape == "square") return x.abs().le(r * 0.85f) & y.abs().le(r * 0.85f);
  if (shape == "triangle") {  // apex up: the half-width grows from 0 at the top to r at the bottom
    return y.ge(-r) & y.le(r) & x.abs().le((y + r) * 0.5f);
  }
  // cross: two bars
  const float bar = r * 0.3f;
  return (x.abs().le(bar) & y.abs().le(r)) | (y.abs().le(bar) & x.abs().le(r));
}

}  // namespace

torch::Tensor normalize_pixels(const torch::Tensor& unit_pixels) {
  const torch::Tensor mean = torch::tensor({0.48145466f, 0.4578275f, 0.40821073f}).view({3, 1, 1});
  const torch::Tensor std = torch::tensor({0.26862954f, 0.26130258f, 0.27577711f}).view({3, 1, 1});
  return (unit_pixels - mean.to(unit_pixels.device())) / std.to(unit_pixels.device());
}

torch::Tensor denormalize_pixels(const torch::Tensor& pixels) {
  const torch::Tensor mean = torch::tensor({0.48145466f, 0.4578275f, 0.40821073f}).view({3, 1, 1});
  const torch::Tensor std = torch::tensor({0.26862954f, 0.26130258f, 0.27577711f}).view({3, 1, 1});
  return pixels * std.to(pixels.device()) + mean.to(pixels.device());
}

ImageTextPairs make_shapes_dataset(int64_t count, int64_t image_size, uint64_t seed) {
  if (count < 0 || count > kCombinations) {
    throw ModelError("synthetic shapes: " + std::to_string(count) + " images asked for, at most " +
                     std::to_string(kCombinations) + " distinct ones exist");
  }
  if (image_size < 16) throw ModelError("synthetic shapes: image size below 16 pixels");
  std::mt19937_64 rng(seed);
  std::vector<int64_t> order(kCombinations);
  for (int64_t i = 0; i < kCombinations; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::uniform_real_distribution<float> jitter(-0.1f, 0.1f);

  ImageTextPairs data;
  std::vector<torch::Tensor> images;
  const float s = static_cast<float>(image_size);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t combo = order[i];
    const Colour& colour = kShapeColours[combo % kShapeColours.size()];
    const char* shape = kShapes[(combo / kShapeColours.size()) % kShapes.size()];
    const Colour& background =
        kBackgrounds[combo / (kShapeColours.size() * kShapes.size()) % kBackgrounds.size()];
    const torch::Tensor mask =
        shape_mask(shape, image_size, s * (0.5f + jitter(rng)), s * (0.5f + jitter(rng)),
                   s * (0.3f + 0.5f * jitter(rng)));
    const torch::Tensor fg = torch::tensor(std::vector<float>(colour.rgb.begin(), colour.rgb.end()));
    const torch::Tensor bg =
        torch::tensor(std::vector<float>(background.rgb.begin(), background.rgb.end()));
    images.push_back(normalize_pixels(
        torch::where(mask.unsqueeze(0), fg.view({3, 1, 1}), bg.view({3, 1, 1}))));
    data.captions.push_back(std::string("a ") + colour.name + " " + shape + " on a " +
                            background.name + " background");
  }
  data.pixels = count > 0 ? torch::stack(images)
                          : torch::zeros({0, 3, image_size, image_size});
  data.image_ids = torch::arange(count, torch::kLong);
  return data;
}

}  // namespace capfilt::model
