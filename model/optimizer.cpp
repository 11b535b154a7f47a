#include "model/optimizer.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <type_traits>

#include "model/error.h"

namespace capfilt::model {
namespace {

// The key of a parameter's state in LibTorch's optimizers: its TensorImpl's address, printed as
// text in LibTorch 1.x (c10::guts::to_string, gone in 2.x) and the address itself in 2.x.
template <typename StateMap>
typename StateMap::key_type state_key(const StateMap&, const torch::Tensor& parameter) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << parameter.unsafeGetTensorImpl();
    return text.str();
  } else {
    return static_cast<Key>(parameter.unsafeGetTensorImpl());
  }
}

}  // namespace

double learning_rate_at(const OptimizerConfig& c, int64_t step) {
  if (step < c.warmup_steps) {
    return c.warmup_start_lr +
           (c.peak_lr - c.warmup_start_lr) * static_cast<double>(step) / c.warmup_steps;
  }
  const int64_t span = std::max<int64_t>(1, c.total_steps - c.warmup_steps);
  const double t = std::clamp(static_cast<double>(step - c.warmup_steps) / span, 0.0, 1.0);
  return c.min_lr + (c.peak_lr - c.min_lr) * 0.5 * (1.0 + std::cos(M_PI * t));
}

bool uses_weight_decay(const std::string& name, const torch::Tensor& parameter,
                       const OptimizerConfig& config) {
  if (config.decay_everything) return true;
  if (parameter.dim() <= 1) return false;  // biases, LayerNorm weights, the temperature
  for (const char* part : {"embeddings", "pos_embed", "cls_token"}) {
    if (name.find(part) != std::string::npos) return false;
  }
  return true;
}

TrainingOptimizer::TrainingOptimizer(
    const std::vector<std::pair<std::string, torch::Tensor>>& named_parameters,
    const OptimizerConfig& config)
    : config_(config) {
  if (config.warmup_steps < 0 || config.total_steps < 1 || config.peak_lr <= 0.0) {
    throw ModelError("optimizer: need warmup_steps >= 0, total_steps >= 1 and peak_lr > 0");
  }
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& [name, p] : named_parameters) {
    (uses_weight_decay(name, p, config) ? decay : no_decay).push_back(p);
    all_.push_back(p);
  }
  decayed_ = static_cast<int64_t>(decay.size());
  undecayed_ = static_cast<int64_t>(no_decay.size());
  auto options = [&](double wd) {
    auto o = std::make_unique<torch::optim::AdamWOptions>(learning_rate_at(config, 0));
    o->betas(std::make_tuple(config.beta1, config.beta2)).eps(config.eps).weight_decay(wd);
    return o;
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(config.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  adamw_ = std::make_unique<torch::optim::AdamW>(std::move(groups));
}

void TrainingOptimizer::zero_grad() {
  for (auto& p : all_) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

double TrainingOptimizer::step() {
  double norm;
  if (config_.clip_norm > 0.0) {
    norm = torch::nn::utils::clip_grad_norm_(all_, config_.clip_norm);
  } else {
    norm = torch::nn::utils::clip_grad_norm_(all_, std::numeric_limits<double>::infinity());
  }
  const double lr = learning_rate_at(config_, step_);
  for (auto& group : adamw_->param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
  adamw_->step();
  ++step_;
  return norm;
}

std::map<std::string, torch::Tensor> TrainingOptimizer::state_tensors() const {
  std::map<std::string, torch::Tensor> out;
  out["schedule_step"] = torch::full({}, step_, torch::kLong);
  auto& states = adamw_->state();
  for (size_t i = 0; i < all_.size(); ++i) {
    const auto it = states.find(state_key(states, all_[i]));
    if (it == states.end()) continue;
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    const std::string prefix = std::to_string(i) + ".";
    out[prefix + "exp_avg"] = s.exp_avg().cpu().clone();
    out[prefix + "exp_avg_sq"] = s.exp_avg_sq().cpu().clone();
    out[prefix + "step"] = torch::full({}, s.step(), torch::kLong);
  }
  return out;
}

void TrainingOptimizer::load_state_tensors(const std::map<std::string, torch::Tensor>& state,
                                           const std::string& source) {
  const auto schedule = state.find("schedule_step");
  if (schedule == state.end()) throw ModelError(source + ": optimizer state lacks 'schedule_step'");
  std::map<size_t, std::unique_ptr<torch::optim::AdamWParamState>> restored;
  for (const auto& [name, t] : state) {
    if (name == "schedule_step") continue;
    const size_t dot = name.find('.');
    size_t index = 0;
    try {
      index = std::stoul(name.substr(0, dot));
    } catch (const std::exception&) {
      throw ModelError(source + ": unexpected optimizer state '" + name + "'");
    }
    if (dot == std::string::npos || index >= all_.size()) {
      throw ModelError(source + ": optimizer state '" + name + "' names parameter " +
                       std::to_string(index) + " but the model has " + std::to_string(all_.size()) +
                       " trainable tensors (another config?)");
    }
    auto& s = restored[index];
    if (!s) s = std::make_unique<torch::optim::AdamWParamState>();
    const std::string field = name.substr(dot + 1);
    if (field == "step") {
      s->step(t.item<int64_t>());
      continue;
    }
    if (!t.sizes().equals(all_[index].sizes())) {
      throw ModelError(source + ": optimizer state '" + name + "' has shape " + c10::str(t.sizes()) +
                       " but its parameter has " + c10::str(all_[index].sizes()) +
                       " (another config?)");
    }
    const torch::Tensor moved = t.to(all_[index].options()).clone();
    if (field == "exp_avg") {
      s->exp_avg(moved);
    } else if (field == "exp_avg_sq") {
      s->exp_avg_sq(moved);
    } else {
      throw ModelError(source + ": unexpected optimizer state '" + name + "'");
    }
  }
  for (auto& [index, s] : restored) {
    if (!s->exp_avg().defined() || !s->exp_avg_sq().defined()) {
      throw ModelError(source + ": optimizer state of parameter " + std::to_string(index) +
                       " is incomplete");
    }
  }
  auto& states = adamw_->state();
  states.clear();
  for (auto& [index, s] : restored) {
    states[state_key(states, all_[index])] = std::move(s);
  }
  step_ = schedule->second.item<int64_t>();
}

std::vector<std::pair<std::string, torch::Tensor>> trainable_parameters(
    const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters()) {
    if (item.value().requires_grad()) out.emplace_back(item.key(), item.value());
  }
  return out;
}

}  // namespace capfilt::model
