#include "model/pretrain.h"

#include <algorithm>
#include <string>
#include <vector>

#include "model/error.h"
#include "model/losses.h"

namespace capfilt::model {
namespace {

torch::Device device_of(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  return torch::kCPU;
}

void require_components(const BlipImpl& model, const LossTerms& terms) {
  if (!terms.itc && !terms.itm && !terms.lm) throw ModelError("training: no loss term enabled");
  const std::string name = "model '" + model.config().name + "'";
  auto need = [&](bool present, const char* part, const char* term) {
    if (!present) throw ModelError(std::string(term) + " needs the " + part + "; " + name + " has none");
  };
  need(model.has_vision(), "image encoder", "training");
  if (terms.itc || terms.itm) {
    need(model.has_text_encoder(), "text encoder", "ITC/ITM");
    need(model.has_projections(), "ITC projections", "ITC/ITM");
  }
  if (terms.itm) need(model.has_itm_head(), "ITM head", "ITM");
  if (terms.lm) need(model.has_text_decoder(), "text decoder", "LM");
}

torch::Tensor zero_if_undefined(const torch::Tensor& t) { return t.defined() ? t : torch::zeros({}); }

// The global batch's rows of `t` (no gradient), or `t` itself for one process.
torch::Tensor gather(Communicator* comm, const torch::Tensor& t, const std::string& what) {
  return comm ? comm->all_gather(t, what) : t;
}

constexpr double kMaxTemperature = 0.5;  // BLIP's ceiling of the learnt ITC temperature

// ids/mask padded on the right to `length` tokens (masked out, so nothing changes).
void pad_to_length(int64_t length, int64_t pad_id, torch::Tensor* ids, torch::Tensor* mask) {
  const int64_t extra = length - ids->size(1);
  if (extra <= 0) return;
  *ids = torch::cat({*ids, torch::full({ids->size(0), extra}, pad_id, ids->options())}, 1);
  *mask = torch::cat({*mask, torch::zeros({mask->size(0), extra}, mask->options())}, 1);
}

// ids/mask padded to the longest caption over all ranks, so that every rank's rows can be
// gathered (ITM's negative texts).
void pad_to_common_length(Communicator& comm, int64_t pad_id, torch::Tensor* ids, torch::Tensor* mask) {
  torch::Tensor length = torch::full({1}, ids->size(1), ids->options());
  comm.all_reduce_max(length, "the agreement on the caption length");
  pad_to_length(length.item<int64_t>(), pad_id, ids, mask);
}

}  // namespace

BlipConfig momentum_config(const BlipConfig& config) {
  BlipConfig c = config;
  c.components.text_decoder = false;
  c.components.itm_head = false;
  return c;
}

Pretrainer::Pretrainer(Blip model, const PretrainOptions& options)
    : model_(std::move(model)),
      terms_(options.terms),
      min_temperature_(options.min_temperature),
      momentum_(nullptr),
      queue_(model_->config().embed_dim, options.terms.itc ? model_->config().queue_size : 0,
             device_of(*model_), options.seed),
      generator_(at::detail::createCPUGenerator(options.seed)),
      device_(device_of(*model_)),
      comm_(options.comm && options.comm->world_size() > 1 ? options.comm : nullptr) {
  require_components(*model_, terms_);
  if (!(min_temperature_ > 0 && min_temperature_ <= kMaxTemperature)) {
    throw ModelError("training: the lowest ITC temperature must lie in (0, 0.5], not " +
                     std::to_string(min_temperature_));
  }
  if (comm_) {  // every rank starts from rank 0's weights (and so do the momentum encoders)
    std::vector<torch::Tensor> tensors = model_->parameters();
    for (const torch::Tensor& b : model_->buffers()) tensors.push_back(b);
    broadcast_from_root(*comm_, tensors, "the broadcast of rank 0's initial weights");
  }
  if (terms_.itc) {
    momentum_ = Blip(momentum_config(model_->config()));
    momentum_->to(device_);
    momentum_->eval();
    for (auto& p : momentum_->parameters()) p.set_requires_grad(false);
    pairs_ = pair_parameters(*model_, *momentum_, {"temp"});
    copy_parameters(pairs_);
  }
  optimizer_ = std::make_unique<TrainingOptimizer>(trainable_parameters(*model_), options.optimizer);
}

Pretrainer::Losses Pretrainer::forward(const PretrainBatch& batch) {
  const BlipConfig& config = model_->config();
  const SpecialTokens& tokens = config.text.tokens;
  const torch::Tensor pixels = batch.pixels.to(device_);
  torch::Tensor ids = batch.ids.to(device_);
  torch::Tensor mask = batch.mask.to(device_);
  const torch::Tensor image_ids = batch.image_ids.to(device_).to(torch::kLong);
  const int64_t b = ids.size(0);
  const int64_t rank = comm_ ? comm_->rank() : 0;
  if (batch.negative_ids.defined()) {  // checked before the queue or anything else changes
    const torch::Tensor& n = batch.negative_ids;
    if (n.dim() != 2 || n.size(0) != b || !batch.negative_mask.defined() ||
        !batch.negative_mask.sizes().equals(n.sizes())) {
      throw ModelError("training: negative_ids and negative_mask must both be [" +
                       std::to_string(b) + ", L], a text for each of the batch's images");
    }
  }
  if (comm_) pad_to_common_length(*comm_, tokens.pad, &ids, &mask);
  if (model_->has_projections()) {
    torch::NoGradGuard no_grad;
    model_->temp.clamp_(min_temperature_, kMaxTemperature);
  }

  // ViT once; the unimodal text encoder (MED forward 1).
  const torch::Tensor image_embeds = model_->encode_image(pixels);
  Losses losses;
  torch::Tensor image_feat, text_feat, image_feat_m_all, text_feat_m_all, ids_all;
  if (terms_.itc || terms_.itm) {
    image_feat = model_->image_features(image_embeds);
    text_feat = model_->text_features(ids, mask);
    ids_all = gather(comm_, image_ids, "the gather of image ids");
  }
  if (terms_.itc) {
    ItcInputs itc;
    {
      torch::NoGradGuard no_grad;
      itc.image_feat_m = momentum_->image_features(momentum_->encode_image(pixels));
      itc.text_feat_m = momentum_->text_features(ids, mask);
      // BLIP's concat_all_gather: the global batch's momentum features are the ITC columns (and
      // soft targets) of every rank and go into the queue, which thus stays equal on all ranks.
      image_feat_m_all = gather(comm_, itc.image_feat_m, "the gather of momentum image features");
      text_feat_m_all = gather(comm_, itc.text_feat_m, "the gather of momentum text features");
    }
    itc.image_feat = image_feat;
    itc.text_feat = text_feat;
    itc.image_queue = queue_.image_queue().clone();
    itc.text_queue = queue_.text_queue().clone();
    itc.ids = image_ids;
    itc.queue_ids = queue_.ids().clone();
    itc.temperature = model_->temp;
    itc.alpha = config.alpha;
    if (comm_) {
      itc.image_feat_m_all = image_feat_m_all;
      itc.text_feat_m_all = text_feat_m_all;
      itc.ids_all = ids_all;
    }
    losses.itc = itc_loss(itc);
  }

  if (terms_.itm) {
    // ITM (MED forward 2): B positives, then a hard negative image for each text and a hard
    // negative text for each image, in one batch of 3B. The negatives are drawn over the global
    // batch, all rows at once on every rank from the shared generator (the same draw as one
    // process makes); each rank keeps its rows' draws.
    HardNegatives neg;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor temp = model_->temp.detach();
      const torch::Tensor image_all = gather(comm_, image_feat.detach(), "the gather of image features");
      const torch::Tensor text_all = gather(comm_, text_feat.detach(), "the gather of text features");
      const torch::Tensor sim_i2t = (image_all.matmul(text_all.t()) / temp).cpu();
      const torch::Tensor sim_t2i = (text_all.matmul(image_all.t()) / temp).cpu();
      neg = sample_hard_negatives(sim_i2t, sim_t2i, ids_all.cpu(), generator_);
    }
    const torch::Tensor neg_image = neg.image_for_text.narrow(0, rank * b, b).to(device_);
    const torch::Tensor neg_text = neg.text_for_image.narrow(0, rank * b, b).to(device_);
    const torch::Tensor enc_ids = with_first_token(ids, tokens.enc);
    // BLIP's all_gather_with_grad: a negative image of another rank sends its gradient home.
    const torch::Tensor image_embeds_all =
        comm_ ? all_gather_with_grad(*comm_, image_embeds) : image_embeds;
    const torch::Tensor enc_ids_all = gather(comm_, enc_ids, "the gather of caption tokens");
    const torch::Tensor mask_all = gather(comm_, mask, "the gather of caption masks");
    std::vector<torch::Tensor> images = {image_embeds, image_embeds_all.index_select(0, neg_image),
                                         image_embeds};
    std::vector<torch::Tensor> texts = {enc_ids, enc_ids, enc_ids_all.index_select(0, neg_text)};
    std::vector<torch::Tensor> masks = {mask, mask, mask_all.index_select(0, neg_text)};
    if (batch.negative_ids.defined()) {  // each image with the text written not to describe it
      torch::Tensor neg_ids = batch.negative_ids.to(device_);
      torch::Tensor neg_mask = batch.negative_mask.to(device_);
      const int64_t length = std::max(neg_ids.size(1), enc_ids.size(1));
      pad_to_length(length, tokens.pad, &neg_ids, &neg_mask);
      for (std::size_t r = 0; r < texts.size(); ++r) {
        pad_to_length(length, tokens.pad, &texts[r], &masks[r]);
      }
      images.push_back(image_embeds);
      texts.push_back(with_first_token(neg_ids, tokens.enc));
      masks.push_back(neg_mask);
    }
    const int64_t negatives = static_cast<int64_t>(images.size()) - 1;
    const torch::Tensor itm_images = torch::cat(images);
    const torch::Tensor itm_ids = torch::cat(texts);
    const torch::Tensor itm_mask = torch::cat(masks);
    const torch::Tensor itm_labels =
        torch::cat({torch::ones({b}, torch::kLong), torch::zeros({negatives * b}, torch::kLong)})
            .to(device_);
    losses.itm = itm_loss(model_->itm_logits(itm_images, itm_ids, itm_mask), itm_labels);
  }

  if (terms_.lm) {
    // LM (MED forward 3): [DEC] first, pad and prompt tokens ignored.
    const torch::Tensor dec_ids = with_first_token(ids, tokens.dec);
    const torch::Tensor labels = lm_labels(dec_ids.masked_fill(mask.eq(0), tokens.pad), tokens.pad,
                                           batch.prompt_length);
    const torch::Tensor hidden = model_->lm_hidden(image_embeds, dec_ids, mask);
    const TextDecoderImpl& decoder = *model_->text_decoder;
    losses.lm = lm_loss_at_targets(
        hidden, labels, [&](const torch::Tensor& h) { return decoder.lm_head(h); },
        config.label_smoothing);
    if (comm_) losses.lm = share_of_global_token_mean(losses.lm, hidden, labels);
  }

  if (terms_.itc) {
    queue_.enqueue(image_feat_m_all, text_feat_m_all, ids_all);
  }
  return losses;
}

// The LM loss is a mean over tokens; ranks hold different numbers of them, so the plain mean of
// the ranks' means would weight tokens unequally. Scaled by W * n_rank / n_global, the ranks'
// losses average to the mean over the global batch's tokens, as one process computes it.
torch::Tensor Pretrainer::share_of_global_token_mean(const torch::Tensor& local_mean,
                                                     const torch::Tensor& hidden,
                                                     const torch::Tensor& labels) {
  const torch::Tensor targets = labels.narrow(1, 1, labels.size(1) - 1);
  std::vector<torch::Tensor> count{targets.ne(kIgnoreIndex).sum().to(torch::kFloat).view({1})};
  const double local = count[0].item<double>();
  comm_->all_reduce_sum(count, "the count of caption tokens");
  const double global = count[0].item<double>();
  if (local == 0.0 || global == 0.0) return hidden.sum() * 0.0;  // no token here: no LM gradient
  return local_mean * (comm_->world_size() * local / global);
}

StepResult Pretrainer::step(const PretrainBatch& batch) {
  const double comm_before = comm_ ? comm_->seconds() : 0.0;
  model_->train();
  optimizer_->zero_grad();
  const Losses losses = forward(batch);
  torch::Tensor total;
  for (const torch::Tensor* t : {&losses.itc, &losses.itm, &losses.lm}) {
    if (t->defined()) total = total.defined() ? total + *t : *t;
  }
  total.backward();
  // Averaged gradients make every rank's AdamW step, clipping norm, temperature and momentum
  // update identical, so the weights never drift apart.
  if (comm_) average_gradients(*comm_, model_->parameters());
  StepResult result;
  result.learning_rate = optimizer_->current_lr();
  result.grad_norm = optimizer_->step();
  if (terms_.itc) ema_update(pairs_, model_->config().momentum);
  std::vector<torch::Tensor> values{torch::stack({zero_if_undefined(losses.itc).detach().cpu(),
                                                  zero_if_undefined(losses.itm).detach().cpu(),
                                                  zero_if_undefined(losses.lm).detach().cpu()})
                                        .to(torch::kDouble)
                                        .to(device_)};
  if (comm_) {  // the global batch's losses: the mean of the ranks' shares
    comm_->all_reduce_sum(values, "the sum of the losses");
    values[0] /= comm_->world_size();
  }
  const torch::Tensor v = values[0].cpu();
  result.losses.itc = v[0].item<double>();
  result.losses.itm = v[1].item<double>();
  result.losses.lm = v[2].item<double>();
  result.comm_seconds = comm_ ? comm_->seconds() - comm_before : 0.0;
  result.temperature = model_->has_projections() ? model_->temp.item<double>() : 0.0;
  return result;
}

NamedTensors Pretrainer::training_state() const {
  NamedTensors out;
  if (momentum_) {
    for (const auto& [name, t] : state_dict(*momentum_)) out["momentum." + name] = t.cpu().clone();
  }
  out["queue.image"] = queue_.image_queue().cpu().clone();
  out["queue.text"] = queue_.text_queue().cpu().clone();
  out["queue.ids"] = queue_.ids().cpu().clone();
  out["queue.pointer"] = torch::full({}, queue_.pointer(), torch::kLong);
  out["generator"] = generator_.get_state().clone();
  for (auto& [name, t] : optimizer_->state_tensors()) out["optimizer." + name] = t;
  return out;
}

void Pretrainer::load_training_state(const NamedTensors& state, const std::string& source) {
  auto take = [&](const std::string& name) -> const torch::Tensor& {
    const auto it = state.find(name);
    if (it == state.end()) throw ModelError(source + ": training state lacks '" + name + "'");
    return it->second;
  };
  NamedTensors momentum, optimizer;
  for (const auto& [name, t] : state) {
    if (name.rfind("momentum.", 0) == 0) momentum[name.substr(9)] = t;
    if (name.rfind("optimizer.", 0) == 0) optimizer[name.substr(10)] = t;
  }
  if (momentum_) {
    load_state_dict_strict(*momentum_, momentum, source + " (momentum encoders)");
  } else if (!momentum.empty()) {
    throw ModelError(source + ": training state holds momentum encoders but this task has no ITC");
  }
  queue_.restore(take("queue.image"), take("queue.text"), take("queue.ids"),
                 take("queue.pointer").item<int64_t>(), source);
  generator_.set_state(take("generator"));
  optimizer_->load_state_tensors(optimizer, source);
}

}  // namespace capfilt::model
