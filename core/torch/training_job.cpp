// run_training_job: the loop of core/training_job.h on LibTorch.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/batch_loader.h"
#include "core/torch/train_checkpoint.h"
#include "core/torch/train_task.h"
#include "core/train_data.h"
#include "core/training_job.h"
#include "db/project.h"
#include "model/distributed.h"
#include "model/error.h"
#include "model/hf_import.h"
#include "model/tokenizer.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Settings that may change between a checkpoint and its resume (they do not alter the result).
bool may_differ_on_resume(const std::string& key) {
  return key == "checkpoint_every" || key == "keep_checkpoints" || key == "workers" ||
         key == "prefetch" || key == "model_name";
}

Status compare_resume_config(const std::string& saved, const std::string& current,
                             const std::string& checkpoint) {
  const json a = json::parse(saved);
  const json b = json::parse(current);
  // A key added after the checkpoint was written (patch_size, the augmentation keys) had, in effect,
  // its default value then.
  const json defaults = json::parse(to_json(TrainJobConfig{}));
  for (const auto& item : b.items()) {
    if (may_differ_on_resume(item.key())) continue;
    const json old = a.contains(item.key()) ? a.at(item.key()) : defaults.value(item.key(), json());
    if (old != item.value()) {
      return Status::invalid(checkpoint + "/state.json: field '" + item.key() + "' is " +
                             old.dump() + " in the checkpoint but " + item.value().dump() +
                             " in the job's config; a checkpoint resumes only the config it was "
                             "written with");
    }
  }
  return Status::ok();
}

struct CheckpointFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// FNV-1a over the pairs in order: a resumed job must see the selection it stopped in.
std::string fingerprint(const TrainPairs& pairs) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    mix(pairs.path(i));
    mix(pairs.text(i));
    for (const std::string& a : pairs.answers(i)) mix(a);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class JobRunner {
 public:
  JobRunner(const TrainJobConfig& config, const TrainJobContext& context)
      : config_(config), ctx_(context), config_json_(to_json(config)) {
    now_ = ctx_.now_ms ? ctx_.now_ms : std::function<int64_t()>(system_now_ms);
    if (!root()) ctx_.project = nullptr;  // rank 0 alone writes the job row, metrics and models
  }

  Result<TrainJobResult> run() {
    Status s;
    try {
      s = prepare();
      if (s) s = train();
    } catch (const CheckpointFailure& e) {
      s = Status::io_error(e.what());
    } catch (const c10::Error& e) {
      s = Status::invalid(e.what_without_backtrace());
    } catch (const std::exception& e) {
      s = Status::invalid(e.what());
    }
    if (!s && comm_ && s.code() == Status::Code::kInvalid) {
      s = Status::invalid(s.message() + "; the job continues from its newest checkpoint with "
                          "--resume, with any number of processes");
    }
    if (!s) {
      fail(s);
      return s;
    }
    return result_;
  }

 private:
  Status prepare() {
    std::error_code ec;
    fs::create_directories(ctx_.job_dir, ec);
    if (ec) return Status::io_error(ctx_.job_dir + ": cannot create the job folder: " + ec.message());
    if (root()) log_.open(fs::path(ctx_.job_dir) / "progress.jsonl", std::ios::app);
    if (Status s = open_job_row(); !s) return s;
    checkpoint_ = ctx_.resume ? newest_checkpoint(ctx_.job_dir) : std::string();
    if (ctx_.resume && checkpoint_.empty()) {
      return Status::not_found("nothing to resume in " + ctx_.job_dir + ": no checkpoint under " +
                               (fs::path(ctx_.job_dir) / "checkpoints").string());
    }
    if (!ctx_.resume && !newest_checkpoint(ctx_.job_dir).empty()) {
      return Status::invalid(ctx_.job_dir + " already holds checkpoints of a job: resume it with "
                             "--resume or choose another job folder");
    }
    if (!checkpoint_.empty()) {
      position_ = internal::read_checkpoint_position(checkpoint_);
      if (Status s = compare_resume_config(position_.config_json, json::parse(config_json_).dump(),
                                           checkpoint_);
          !s) {
        return s;
      }
    }
    if (root()) {
      if (Status s = write_config(); !s) return s;
    }
    return Status::ok();
  }

  bool root() const { return ctx_.distributed.rank == 0; }
  int world() const { return std::max(1, ctx_.distributed.world_size); }

  // Joins the other ranks (distributed training only).
  Status connect() {
    const DistributedSetup& d = ctx_.distributed;
    if (config_.task == TrainTask::kVqa) {
      return Status::invalid("distributed training covers pretrain, captioner and filter; run vqa "
                             "as one process");
    }
    if (config_.batch_size % world() != 0) {
      return Status::invalid("field 'batch_size' is " + std::to_string(config_.batch_size) +
                             ", not a multiple of the " + std::to_string(world()) +
                             " processes (batch_size is the global batch, split evenly)");
    }
    model::ProcessGroupOptions o;
    o.rank = d.rank;
    o.world_size = d.world_size;
    o.master_addr = d.master_addr;
    o.master_port = d.master_port;
    o.backend = d.backend.empty() ? default_backend(ctx_.device) : d.backend;
    o.timeout = std::chrono::seconds(d.timeout_s);
    comm_ = model::connect_process_group(o);
    return Status::ok();
  }

  Status write_config() {
    const fs::path path = fs::path(ctx_.job_dir) / "config.json";
    const fs::path tmp = fs::path(ctx_.job_dir) / ".config.json.tmp";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << config_json_;
    out.close();
    std::error_code ec;
    if (!out) return Status::io_error(tmp.string() + ": write failed");
    fs::rename(tmp, path, ec);
    if (ec) return Status::io_error(path.string() + ": " + ec.message());
    return Status::ok();
  }

  Status open_job_row() {
    if (!ctx_.project) return Status::ok();
    const fs::path job_file = fs::path(ctx_.job_dir) / "job.json";
    if (ctx_.resume && fs::exists(job_file)) {
      std::ifstream in(job_file);
      std::stringstream text;
      text << in.rdbuf();
      const json j = json::parse(text.str(), nullptr, false);
      if (!j.is_discarded() && j.contains("job_id") && j.at("job_id").is_number_integer()) {
        job_id_ = j.at("job_id").get<int64_t>();
      }
    }
    if (job_id_ == 0) {
      db::JobRecord job;
      job.kind = "train";
      job.args_json = config_json_;
      auto id = ctx_.project->add_job(job);
      if (!id) return id.status();
      job_id_ = *id;
      std::ofstream out(job_file, std::ios::trunc);
      out << json{{"job_id", job_id_}, {"project", ctx_.project->path()}}.dump(2) << "\n";
    }
    result_.job_id = job_id_;
    if (Status s = ctx_.project->update_job(job_id_, db::JobStatus::kRunning, ctx_.pid, 0.0); !s) {
      return s;
    }
    return ctx_.project->set_job_log_path(job_id_,
                                          (fs::path(ctx_.job_dir) / "progress.jsonl").string());
  }

  void emit(ProgressEvent e) {
    e.time_ms = now_();
    if (log_) log_ << to_json_line(e) << "\n" << std::flush;
    if (ctx_.on_event) ctx_.on_event(e);
  }

  void fail(const Status& s) {
    if (ctx_.project && job_id_ != 0) {
      ctx_.project->update_job(job_id_, db::JobStatus::kFailed, ctx_.pid, progress(), s.message());
    }
    ProgressEvent e;
    e.kind = ProgressEventKind::kFinished;
    e.status = "failed";
    e.text = s.message();
    emit(e);
  }

  double progress() const {
    return result_.total_steps > 0 ? static_cast<double>(step_) / result_.total_steps : 0.0;
  }

  model::Blip build_model(const model::Tokenizer& tokenizer) {
    if (!checkpoint_.empty()) return model::load_model(checkpoint_);
    if (!config_.init.empty()) {
      model::Blip m = model::load_model(config_.init);
      // A size the config asks for (0: the checkpoint's) must be the checkpoint's own.
      auto require = [&](const char* what, int64_t asked, int64_t has) {
        if (asked > 0 && asked != has) {
          throw model::ModelError(config_.init + ": the checkpoint's " + what + " is " +
                                  std::to_string(has) + " but the config asks for " +
                                  std::to_string(asked));
        }
      };
      require("image size", config_.image_size, m->config().vision.image_size);
      require("patch size", config_.patch_size, m->config().vision.patch_size);
      return adapt_model_for_task(m, config_.task, config_.queue_size);
    }
    model::BlipConfig c = model::preset(config_.preset, config_.image_size);
    if (config_.patch_size > 0) c.vision.patch_size = config_.patch_size;
    c.text.vocab_size = tokenizer.size();
    const model::SpecialTokenIds& ids = tokenizer.special_ids();
    c.text.tokens = {ids.pad, ids.cls, ids.sep, ids.dec, ids.enc};
    if (config_.queue_size > 0) c.queue_size = config_.queue_size;
    if (config_.task == TrainTask::kVqa) c.sharing = model::SharingMode::kSeparate;
    return model::Blip(c);
  }

  Status train() {
    const std::string vocab = config_.vocab.empty() ? ctx_.default_vocab : config_.vocab;
    const model::Tokenizer tokenizer = model::Tokenizer::from_vocab_file(vocab);
    auto pairs = select_training_pairs(config_.data, config_.task, ctx_.project);
    if (!pairs) return pairs.status();
    result_.pairs = static_cast<int64_t>(pairs->size());
    data_fingerprint_ = fingerprint(*pairs);
    if (!checkpoint_.empty() && (position_.pairs != result_.pairs ||
                                 position_.data_fingerprint != data_fingerprint_)) {
      return Status::invalid(checkpoint_ + "/state.json: the data selection changed since the "
                             "checkpoint (" + std::to_string(position_.pairs) + " pairs then, " +
                             std::to_string(result_.pairs) + " now, or other pairs); an exact "
                             "resume needs the same pairs");
    }
    if (result_.pairs < config_.batch_size) {
      return Status::invalid("the data selection matches " + std::to_string(result_.pairs) +
                             " pairs, fewer than one batch (field 'batch_size' is " +
                             std::to_string(config_.batch_size) + "); widen field 'data' or lower "
                             "the batch size");
    }
    const int64_t per_epoch = result_.pairs / config_.batch_size;
    result_.total_steps = config_.steps > 0 ? config_.steps : config_.epochs * per_epoch;
    if (world() > 1) {
      if (Status s = connect(); !s) return s;
    }

    torch::manual_seed(config_.seed);  // initial weights of a model built from a preset
    model::Blip blip = build_model(tokenizer);
    if (blip->config().text.vocab_size != tokenizer.size()) {
      return Status::invalid(vocab + ": the vocabulary has " + std::to_string(tokenizer.size()) +
                             " tokens but the model's text.vocab_size is " +
                             std::to_string(blip->config().text.vocab_size));
    }
    blip->to(torch::Device(ctx_.device));
    TaskSettings settings = task_settings(config_, result_.total_steps, tokenizer);
    settings.comm = comm_.get();
    std::unique_ptr<TaskTrainer> trainer = make_task_trainer(config_.task, blip, settings);
    if (!checkpoint_.empty()) {
      const std::string file = (fs::path(checkpoint_) / "training_state.safetensors").string();
      trainer->load_state(model::load_safetensors(file), file);
      step_ = position_.step;
      epoch_ = position_.epoch;
      sample_position_ = position_.position;
    }
    start_event();
    return loop(*pairs, *trainer, tokenizer);
  }

  void start_event() {
    ProgressEvent e;
    e.kind = ProgressEventKind::kStart;
    e.job_kind = "train";
    e.job_id = job_id_;
    e.total = result_.total_steps;
    e.unit = "steps";
    emit(e);
    if (!checkpoint_.empty()) {
      ProgressEvent m;
      m.kind = ProgressEventKind::kMessage;
      m.text = "resumed from " + checkpoint_ + " at step " + std::to_string(step_);
      emit(m);
    }
  }

  std::unique_ptr<BatchLoader> open_loader(const TrainPairs& pairs, int image_size) {
    LoaderOptions o;
    o.image_size = image_size;
    o.workers = config_.workers;
    o.prefetch = std::max(config_.prefetch, config_.workers);
    o.shuffle = true;
    o.seed = config_.seed;
    o.epoch = static_cast<uint64_t>(epoch_);
    o.start = static_cast<size_t>(sample_position_);
    // A crop of the whole image without a flip is the plain resize.
    o.augment = config_.crop_min_scale < 1.0 || config_.horizontal_flip;
    o.augment_options.min_scale = config_.crop_min_scale;
    o.augment_options.horizontal_flip = config_.horizontal_flip;
    o.delivery = Delivery::kInOrder;  // the order depends on the seed alone: exact resume
    if (world() > 1) {  // the distributed sampler: rank r takes the r-th slice of each global batch
      o.shard_block = static_cast<size_t>(config_.batch_size / world());
      o.shard_index = static_cast<size_t>(ctx_.distributed.rank);
      o.shard_count = static_cast<size_t>(world());
    }
    return std::make_unique<BatchLoader>(
        pairs.size(), [&pairs](std::size_t i) { return std::string(pairs.path(i)); }, o);
  }

  Status loop(const TrainPairs& pairs, TaskTrainer& trainer,
              const model::Tokenizer& tokenizer) {
    const int image_size = static_cast<int>(trainer.model()->config().vision.image_size);
    std::unique_ptr<BatchLoader> loader;
    const auto started = std::chrono::steady_clock::now();
    const int64_t first_step = step_;
    const RateMeter meter(result_.total_steps - first_step, now_());
    bool stopped = false;
    while (step_ < result_.total_steps) {
      // Distributed: every rank sees the same global positions, so all end the epoch together
      // (its last partial global batch is dropped, as one process drops it).
      if (world() > 1 && sample_position_ + config_.batch_size > result_.pairs) {
        loader.reset();
        ++epoch_;
        sample_position_ = 0;
      }
      if (!loader) loader = open_loader(pairs, image_size);
      const auto wait_start = std::chrono::steady_clock::now();
      std::vector<LoadedSample> batch;
      if (world() > 1) {
        batch = next_shard_batch(*loader);
        sample_position_ += config_.batch_size;
      } else {
        std::vector<LoadedSample> failed;
        batch = loader->next_batch(config_.batch_size, &failed);
        const bool epoch_start = sample_position_ == 0;
        sample_position_ += static_cast<int64_t>(batch.size() + failed.size());
        for (const LoadedSample& f : failed) warn(f.status.message());
        if (static_cast<int64_t>(batch.size()) < config_.batch_size) {  // the epoch's remainder
          if (epoch_start) {
            return Status::invalid("fewer than one batch of the selection's images could be decoded");
          }
          loader.reset();
          ++epoch_;
          sample_position_ = 0;
          continue;
        }
      }
      result_.data_wait_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wait_start).count();
      std::vector<TrainPair> items;
      std::vector<const std::vector<float>*> pixels;
      for (const LoadedSample& s : batch) {
        items.push_back(pairs.at(s.index));
        pixels.push_back(&s.pixels);
      }
      const model::StepResult r = trainer.step(items, pixels, image_size, tokenizer);
      ++step_;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      record_step(r, seconds, first_step, meter);
      if (stop_requested()) {
        stopped = step_ < result_.total_steps;
        break;
      }
      if (config_.checkpoint_every > 0 && step_ % config_.checkpoint_every == 0 &&
          step_ < result_.total_steps) {
        checkpoint(trainer);
      }
    }
    result_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    checkpoint(trainer);
    Status s = stopped ? finish_stopped() : finish_trained(trainer);
    // No rank reports success before rank 0 has written the checkpoint and the model.
    if (s && comm_) comm_->barrier("the end of the job");
    return s;
  }

  // Distributed: all ranks stop after the same step when any was asked to.
  bool stop_requested() {
    const bool here = ctx_.should_stop && ctx_.should_stop();
    if (!comm_) return here;
    // On the training device: NCCL reduces CUDA tensors only.
    torch::Tensor flag =
        torch::full({1}, here ? 1 : 0, torch::TensorOptions(torch::kInt).device(ctx_.device));
    comm_->all_reduce_max(flag, "the agreement on stopping");
    return flag.item<int>() != 0;
  }

  // This rank's batch_size / world samples of the global batch. A file that fails to decode is
  // replaced by another sample of the same rank's batch (with a warning), so every rank keeps its
  // share and the ranks stay in step.
  std::vector<LoadedSample> next_shard_batch(BatchLoader& loader) {
    const int64_t share = config_.batch_size / world();
    std::vector<LoadedSample> batch;
    std::vector<size_t> failed;
    for (int64_t i = 0; i < share; ++i) {
      std::optional<LoadedSample> s = loader.next();
      if (!s) throw std::runtime_error("the data loader ended inside an epoch");
      if (!s->status) {
        warn(s->status.message() + " (replaced by another image of rank " +
             std::to_string(ctx_.distributed.rank) + "'s batch)");
        failed.push_back(batch.size());
      }
      batch.push_back(std::move(*s));
    }
    if (failed.size() == batch.size()) {
      throw std::runtime_error("rank " + std::to_string(ctx_.distributed.rank) + ": none of the " +
                               std::to_string(share) + " images of its batch could be decoded");
    }
    size_t good = 0;
    for (size_t f : failed) {
      while (!batch[good].status) ++good;
      batch[f] = batch[good];
    }
    return batch;
  }

  void warn(const std::string& text) {
    ProgressEvent e;
    e.kind = ProgressEventKind::kMessage;
    e.level = "warning";
    e.text = text;
    emit(e);
  }

  void record_step(const model::StepResult& r, double seconds, int64_t first_step,
                   const RateMeter& meter) {
    const double pairs_per_s =
        seconds > 0 ? (step_ - first_step) * config_.batch_size / seconds : 0.0;
    std::map<std::string, double> m;
    const auto& terms = task_terms(config_.task);
    if (terms.itc) m["loss_itc"] = r.losses.itc;
    if (terms.itm) m["loss_itm"] = r.losses.itm;
    if (terms.lm) m[config_.task == TrainTask::kVqa ? "loss_vqa" : "loss_lm"] = r.losses.lm;
    m["loss"] = r.losses.total();
    m["lr"] = r.learning_rate;
    if (terms.itc || terms.itm) m["temperature"] = r.temperature;
    m["grad_norm"] = r.grad_norm;
    m["pairs_per_s"] = pairs_per_s;
    m["data_wait_share"] = seconds > 0 ? result_.data_wait_seconds / seconds : 0.0;
    if (comm_) {
      result_.comm_seconds += r.comm_seconds;
      m["comm_share"] = seconds > 0 ? result_.comm_seconds / seconds : 0.0;
      m["processes"] = world();
    }
    result_.last_metrics = m;
    result_.steps_done = step_;
    const bool report = ctx_.log_every <= 1 || step_ % ctx_.log_every == 0 ||
                        step_ == result_.total_steps || step_ == first_step + 1;
    if (!report) return;
    ProgressEvent e;
    e.kind = ProgressEventKind::kProgress;
    meter.fill(e, step_ - first_step, now_());
    e.done = step_;
    e.total = result_.total_steps;
    e.step = step_;
    e.metrics = m;
    emit(e);
    if (ctx_.project && job_id_ != 0) {
      std::vector<db::JobMetric> rows;
      for (const auto& [name, value] : m) rows.push_back({step_, name, value});
      ctx_.project->add_job_metrics(job_id_, rows);
      ctx_.project->update_job(job_id_, db::JobStatus::kRunning, ctx_.pid, progress());
    }
  }

  // Distributed: the ranks' weights and training state must be equal (same averaged gradients,
  // same updates); a checksum compared across ranks catches a divergence before rank 0 saves.
  void check_ranks_agree(TaskTrainer& trainer) {
    torch::NoGradGuard no_grad;
    double sum = 0.0;
    for (const torch::Tensor& p : trainer.model()->parameters()) {
      sum += p.detach().to(torch::kDouble).sum().item<double>();
    }
    for (const auto& [name, t] : trainer.state()) {
      if (t.is_floating_point()) sum += t.to(torch::kDouble).sum().item<double>();
    }
    torch::Tensor range = torch::tensor({sum, -sum}, torch::kDouble).to(torch::Device(ctx_.device));
    comm_->all_reduce_max(range, "the check that the ranks' weights agree");
    const double high = range[0].item<double>();
    const double low = -range[1].item<double>();
    if (high - low > 1e-12 * std::max(1.0, std::abs(high))) {
      throw std::runtime_error("distributed training: the ranks' weights differ after step " +
                               std::to_string(step_) + " (checksums from " + std::to_string(low) +
                               " to " + std::to_string(high) + "); no checkpoint was written");
    }
  }

  void checkpoint(TaskTrainer& trainer) {
    if (comm_) check_ranks_agree(trainer);
    if (!root()) return;  // the ranks' states are equal; rank 0 writes
    internal::CheckpointPosition p;
    p.step = step_;
    p.epoch = epoch_;
    p.position = sample_position_;
    p.config_json = config_json_;
    p.pairs = result_.pairs;
    p.data_fingerprint = data_fingerprint_;
    try {
      result_.checkpoint = internal::write_training_checkpoint(
          ctx_.job_dir, trainer.model(), trainer.state(), p, config_.keep_checkpoints);
    } catch (const model::ModelError& e) {
      throw CheckpointFailure(e.what());
    }
    ProgressEvent e;
    e.kind = ProgressEventKind::kCheckpoint;
    e.step = step_;
    e.path = result_.checkpoint;
    emit(e);
  }

  Status finish_stopped() {
    result_.status = "cancelled";
    const std::string text = "stopped at step " + std::to_string(step_) + " of " +
                             std::to_string(result_.total_steps) + "; checkpoint " +
                             result_.checkpoint + "; continue with --resume";
    if (ctx_.project && job_id_ != 0) {
      ctx_.project->update_job(job_id_, db::JobStatus::kCancelled, ctx_.pid, progress(), text);
    }
    ProgressEvent e;
    e.kind = ProgressEventKind::kFinished;
    e.status = "cancelled";
    e.text = text;
    e.step = step_;
    e.metrics = result_.last_metrics;
    emit(e);
    return Status::ok();
  }

  Status finish_trained(TaskTrainer& trainer) {
    result_.model_path = (fs::path(ctx_.job_dir) / "model").string();
    if (root()) internal::write_model_atomically(trainer.model(), result_.model_path);
    if (ctx_.project) {
      if (Status s = add_model_row(trainer); !s) return s;
      ctx_.project->update_job(job_id_, db::JobStatus::kSucceeded, ctx_.pid, 1.0);
    }
    result_.status = "succeeded";
    ProgressEvent e;
    e.kind = ProgressEventKind::kFinished;
    e.status = "succeeded";
    e.text = "trained " + std::to_string(step_) + " steps; model " + result_.model_path;
    e.step = step_;
    e.metrics = result_.last_metrics;
    emit(e);
    return Status::ok();
  }

  Status add_model_row(TaskTrainer& trainer) {
    int64_t parent = config_.parent_model_id;
    if (parent == 0 && !config_.init.empty()) {
      auto models = ctx_.project->models();
      if (models) {
        std::error_code ec;
        for (const db::ModelRecord& m : *models) {
          if (fs::equivalent(m.checkpoint_path, config_.init, ec)) parent = m.id;
        }
      }
    }
    db::ModelRecord row;
    row.name = config_.model_name.empty()
                   ? std::string(to_string(config_.task)) + " job " + std::to_string(job_id_)
                   : config_.model_name;
    row.checkpoint_path = fs::absolute(result_.model_path).string();
    row.config_json = model::config_to_json(trainer.model()->config());
    row.task = to_string(config_.task);
    row.parent_id = parent;
    json metrics = json::object();
    for (const auto& [k, v] : result_.last_metrics) metrics["final_" + k] = v;
    metrics["steps"] = step_;
    metrics["job_id"] = job_id_;
    row.metrics_json = metrics.dump();
    auto id = ctx_.project->add_model(row);
    if (!id) return id.status();
    result_.model_id = *id;
    return Status::ok();
  }

  TrainJobConfig config_;
  TrainJobContext ctx_;
  std::string config_json_;
  std::function<int64_t()> now_;
  std::ofstream log_;
  std::string checkpoint_;  // resumed from
  internal::CheckpointPosition position_;
  int64_t job_id_ = 0;
  int64_t step_ = 0;
  int64_t epoch_ = 0;
  int64_t sample_position_ = 0;
  std::string data_fingerprint_;
  TrainJobResult result_;
  std::unique_ptr<model::Communicator> comm_;  // distributed training only
};

}  // namespace

Result<TrainJobResult> run_training_job(const TrainJobConfig& config,
                                        const TrainJobContext& context) {
  if (Status s = validate(config, context.job_dir + "/config.json"); !s) return s;
  JobRunner runner(config, context);
  return runner.run();
}

}  // namespace capfilt::core
