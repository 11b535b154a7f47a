#include "model/momentum.h"

#include <algorithm>
#include <unordered_map>

#include "model/error.h"

namespace capfilt::model {

ParameterPairs pair_parameters(const torch::nn::Module& online, const torch::nn::Module& momentum,
                               const std::vector<std::string>& skip) {
  std::unordered_map<std::string, torch::Tensor> by_name;
  for (const auto& item : online.named_parameters()) by_name.emplace(item.key(), item.value());
  ParameterPairs pairs;
  for (const auto& item : momentum.named_parameters()) {
    if (std::find(skip.begin(), skip.end(), item.key()) != skip.end()) continue;
    const auto it = by_name.find(item.key());
    if (it == by_name.end()) {
      throw ModelError("momentum model: parameter '" + item.key() + "' has no online counterpart");
    }
    if (!it->second.sizes().equals(item.value().sizes())) {
      throw ModelError("momentum model: parameter '" + item.key() + "' has shape " +
                       c10::str(item.value().sizes()) + " but the online one has " +
                       c10::str(it->second.sizes()));
    }
    pairs.names.push_back(item.key());
    pairs.online.push_back(it->second);
    pairs.momentum.push_back(item.value());
  }
  return pairs;
}

void copy_parameters(const ParameterPairs& pairs) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < pairs.online.size(); ++i) pairs.momentum[i].copy_(pairs.online[i]);
}

void ema_update(const ParameterPairs& pairs, double m) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < pairs.online.size(); ++i) {
    pairs.momentum[i].mul_(m).add_(pairs.online[i].detach(), 1.0 - m);
  }
}

FeatureQueue::FeatureQueue(int64_t dim, int64_t size, const torch::Device& device, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto unit_columns = [&] {
    const torch::Tensor x = at::normal(0.0, 1.0, {dim, size}, gen);
    return (x / x.norm(2, 0, true).clamp_min(1e-12)).to(device);
  };
  image_ = unit_columns();
  text_ = unit_columns();
  ids_ = torch::full({size}, int64_t{-100}, torch::TensorOptions(torch::kLong).device(device));
}

void FeatureQueue::enqueue(const torch::Tensor& image_feat, const torch::Tensor& text_feat,
                           const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  const int64_t q = size();
  if (q == 0) return;
  int64_t b = image_feat.size(0);
  int64_t first = 0;
  if (b > q) {  // only the newest q rows survive
    first = b - q;
    ptr_ = (ptr_ + first) % q;
    b = q;
  }
  const torch::Tensor img = image_feat.detach().narrow(0, first, b).t().to(image_.options());
  const torch::Tensor txt = text_feat.detach().narrow(0, first, b).t().to(text_.options());
  const torch::Tensor idx = ids.narrow(0, first, b).to(ids_.options());
  const int64_t head = std::min(b, q - ptr_);
  image_.narrow(1, ptr_, head).copy_(img.narrow(1, 0, head));
  text_.narrow(1, ptr_, head).copy_(txt.narrow(1, 0, head));
  ids_.narrow(0, ptr_, head).copy_(idx.narrow(0, 0, head));
  if (head < b) {
    image_.narrow(1, 0, b - head).copy_(img.narrow(1, head, b - head));
    text_.narrow(1, 0, b - head).copy_(txt.narrow(1, head, b - head));
    ids_.narrow(0, 0, b - head).copy_(idx.narrow(0, head, b - head));
  }
  ptr_ = (ptr_ + b) % q;
}

void FeatureQueue::restore(const torch::Tensor& image, const torch::Tensor& text,
                           const torch::Tensor& ids, int64_t pointer, const std::string& source) {
  if (!image.sizes().equals(image_.sizes()) || !text.sizes().equals(text_.sizes()) ||
      !ids.sizes().equals(ids_.sizes())) {
    throw ModelError(source + ": feature queue has shape " + c10::str(image.sizes()) +
                     " but this model's queue is " + c10::str(image_.sizes()) +
                     " (queue_size or embed_dim differ)");
  }
  if (pointer < 0 || (size() > 0 && pointer >= size()) || (size() == 0 && pointer != 0)) {
    throw ModelError(source + ": feature queue pointer " + std::to_string(pointer) +
                     " lies outside the queue");
  }
  torch::NoGradGuard no_grad;
  image_.copy_(image);
  text_.copy_(text);
  ids_.copy_(ids);
  ptr_ = pointer;
}

}  // namespace capfilt::model
