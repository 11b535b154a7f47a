// TrainJobConfig <-> JSON, strictly: every key known, every value of the right type.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/training_job.h"

namespace capfilt::core {
namespace {

using nlohmann::json;

struct TaskName {
  TrainTask task;
  const char* name;
};
constexpr TaskName kTasks[] = {{TrainTask::kPretrain, "pretrain"},
                               {TrainTask::kCaptioner, "captioner"},
                               {TrainTask::kFilter, "filter"},
                               {TrainTask::kVqa, "vqa"}};

// Reads the keys of one JSON object into fields, failing on the first unknown key or wrong type.
class StrictReader {
 public:
  StrictReader(const json& object, std::string source, std::string prefix)
      : object_(object), source_(std::move(source)), prefix_(std::move(prefix)) {}

  template <typename T>
  void read(const char* key, T* out) {
    known_.push_back(key);
    if (!status_ || !object_.contains(key)) return;
    const json& v = object_.at(key);
    if (!type_ok(v, out)) {
      fail(key, "has the wrong type (" + v.dump() + "; expected " + type_name(out) + ")");
      return;
    }
    *out = v.get<T>();
  }
  void read(const char* key, std::optional<double>* out) {
    known_.push_back(key);
    if (!status_ || !object_.contains(key)) return;
    const json& v = object_.at(key);
    if (v.is_null()) {
      out->reset();
    } else if (v.is_number()) {
      *out = v.get<double>();
    } else {
      fail(key, "has the wrong type (" + v.dump() + "; expected a number or null)");
    }
  }
  // Marks a key read elsewhere as known.
  void allow(const char* key) { known_.push_back(key); }
  // Fails on any key not read. Call last.
  Status finish() {
    if (!status_) return status_;
    for (const auto& item : object_.items()) {
      if (std::find(known_.begin(), known_.end(), item.key()) == known_.end()) {
        fail(item.key().c_str(), "is not a known setting");
        break;
      }
    }
    return status_;
  }
  void fail(const char* key, const std::string& what) {
    if (status_) status_ = Status::invalid(source_ + ": field '" + prefix_ + key + "' " + what);
  }
  const Status& status() const { return status_; }

 private:
  static bool type_ok(const json& v, const std::string*) { return v.is_string(); }
  static bool type_ok(const json& v, const bool*) { return v.is_boolean(); }
  static bool type_ok(const json& v, const int64_t*) { return v.is_number_integer(); }
  static bool type_ok(const json& v, const uint64_t*) { return v.is_number_unsigned(); }
  static bool type_ok(const json& v, const int*) { return v.is_number_integer(); }
  static bool type_ok(const json& v, const double*) { return v.is_number(); }
  static bool type_ok(const json& v, const std::vector<std::string>*) {
    if (!v.is_array()) return false;
    for (const auto& e : v) {
      if (!e.is_string()) return false;
    }
    return true;
  }
  static const char* type_name(const std::string*) { return "a string"; }
  static const char* type_name(const bool*) { return "true or false"; }
  static const char* type_name(const int64_t*) { return "an integer"; }
  static const char* type_name(const uint64_t*) { return "a non-negative integer"; }
  static const char* type_name(const int*) { return "an integer"; }
  static const char* type_name(const double*) { return "a number"; }
  static const char* type_name(const std::vector<std::string>*) { return "a list of strings"; }

  const json& object_;
  std::string source_;
  std::string prefix_;
  std::vector<std::string> known_;
  Status status_;
};

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

Status read_config(const json& j, TrainJobConfig& c, const std::string& source) {
  if (!j.is_object()) return Status::invalid(source + ": a training config must be a JSON object");
  StrictReader r(j, source, "");
  std::string task = to_string(c.task);
  r.read("task", &task);
  if (r.status() && !parse(task, &c.task)) {
    r.fail("task", "is '" + task + "' (expected pretrain, captioner, filter or vqa)");
  }
  r.read("preset", &c.preset);
  r.read("image_size", &c.image_size);
  r.read("patch_size", &c.patch_size);
  r.read("queue_size", &c.queue_size);
  r.read("init", &c.init);
  r.read("parent_model_id", &c.parent_model_id);
  r.read("vocab", &c.vocab);
  r.read("steps", &c.steps);
  r.read("epochs", &c.epochs);
  r.read("batch_size", &c.batch_size);
  r.read("lr", &c.lr);
  r.read("min_lr", &c.min_lr);
  r.read("warmup_lr", &c.warmup_lr);
  r.read("warmup_steps", &c.warmup_steps);
  r.read("weight_decay", &c.weight_decay);
  r.read("schedule", &c.schedule);
  r.read("clip_norm", &c.clip_norm);
  r.read("seed", &c.seed);
  r.read("max_text_length", &c.max_text_length);
  r.read("prompt", &c.prompt);
  r.read("checkpoint_every", &c.checkpoint_every);
  r.read("keep_checkpoints", &c.keep_checkpoints);
  r.read("workers", &c.workers);
  r.read("prefetch", &c.prefetch);
  r.read("crop_min_scale", &c.crop_min_scale);
  r.read("horizontal_flip", &c.horizontal_flip);
  r.read("text_negatives", &c.text_negatives);
  r.read("min_temperature", &c.min_temperature);
  r.read("model_name", &c.model_name);
  if (!r.status()) return r.status();
  if (j.contains("data")) {
    const json& d = j.at("data");
    if (!d.is_object()) {
      r.fail("data", "must be an object");
    } else {
      StrictReader dr(d, source, "data.");
      TrainDataSelection& s = c.data;
      dr.read("annotation_files", &s.annotation_files);
      dr.read("image_root", &s.image_root);
      dr.read("split", &s.split);
      dr.read("sources", &s.sources);
      dr.read("decisions", &s.decisions);
      dr.read("score_model_id", &s.score_model_id);
      dr.read("itm_min", &s.itm_min);
      dr.read("itm_max", &s.itm_max);
      dr.read("itc_min", &s.itc_min);
      dr.read("itc_max", &s.itc_max);
      if (Status st = dr.finish(); !st) return st;
    }
  }
  r.allow("data");
  return r.finish();
}

}  // namespace

const char* to_string(TrainTask task) {
  for (const auto& t : kTasks) {
    if (t.task == task) return t.name;
  }
  return "pretrain";
}

bool parse(const std::string& name, TrainTask* out) {
  for (const auto& t : kTasks) {
    if (name == t.name) {
      *out = t.task;
      return true;
    }
  }
  return false;
}

std::string to_json(const TrainJobConfig& c) {
  const TrainDataSelection& s = c.data;
  json data = {{"annotation_files", s.annotation_files},
               {"image_root", s.image_root},
               {"split", s.split},
               {"sources", s.sources},
               {"decisions", s.decisions},
               {"score_model_id", s.score_model_id},
               {"itm_min", optional_number(s.itm_min)},
               {"itm_max", optional_number(s.itm_max)},
               {"itc_min", optional_number(s.itc_min)},
               {"itc_max", optional_number(s.itc_max)}};
  json j = {{"task", to_string(c.task)},
            {"preset", c.preset},
            {"image_size", c.image_size},
            {"patch_size", c.patch_size},
            {"queue_size", c.queue_size},
            {"init", c.init},
            {"parent_model_id", c.parent_model_id},
            {"vocab", c.vocab},
            {"data", data},
            {"steps", c.steps},
            {"epochs", c.epochs},
            {"batch_size", c.batch_size},
            {"lr", c.lr},
            {"min_lr", c.min_lr},
            {"warmup_lr", c.warmup_lr},
            {"warmup_steps", c.warmup_steps},
            {"weight_decay", c.weight_decay},
            {"schedule", c.schedule},
            {"clip_norm", c.clip_norm},
            {"seed", c.seed},
            {"max_text_length", c.max_text_length},
            {"prompt", c.prompt},
            {"checkpoint_every", c.checkpoint_every},
            {"keep_checkpoints", c.keep_checkpoints},
            {"workers", c.workers},
            {"prefetch", c.prefetch},
            {"crop_min_scale", c.crop_min_scale},
            {"horizontal_flip", c.horizontal_flip},
            {"text_negatives", c.text_negatives},
            {"min_temperature", c.min_temperature},
            {"model_name", c.model_name}};
  return j.dump(2) + "\n";
}

Status validate(const TrainJobConfig& c, const std::string& source) {
  auto bad = [&](const char* field, const std::string& what) {
    return Status::invalid(source + ": field '" + field + "' " + what);
  };
  if (c.init.empty() && c.preset != "tiny" && c.preset != "base" && c.preset != "large") {
    return bad("preset", "is '" + c.preset + "' (expected tiny, base or large, or give 'init')");
  }
  if (c.image_size < 0) return bad("image_size", "must not be negative");
  if (c.patch_size < 0) return bad("patch_size", "must not be negative");
  if (c.patch_size > 0 && c.image_size > 0 && c.image_size % c.patch_size != 0) {
    return bad("patch_size", "must divide image_size (" + std::to_string(c.image_size) + ")");
  }
  if (c.queue_size < 0) return bad("queue_size", "must not be negative");
  if (!(c.min_temperature > 0 && c.min_temperature <= 0.5)) {
    return bad("min_temperature", "must lie in (0, 0.5] (BLIP: 0.001)");
  }
  if (c.steps < 0) return bad("steps", "must not be negative");
  if (c.epochs < 0) return bad("epochs", "must not be negative");
  if (c.steps == 0 && c.epochs == 0) return bad("steps", "or 'epochs' must be positive");
  if (c.batch_size < 2) return bad("batch_size", "must be at least 2 (ITM and ITC need negatives)");
  if (!(c.lr > 0)) return bad("lr", "must be positive");
  if (c.min_lr < 0) return bad("min_lr", "must not be negative");
  if (c.warmup_lr < 0) return bad("warmup_lr", "must not be negative");
  if (c.warmup_steps < 0) return bad("warmup_steps", "must not be negative");
  if (c.weight_decay < 0) return bad("weight_decay", "must not be negative");
  if (c.schedule != "cosine" && c.schedule != "constant") {
    return bad("schedule", "is '" + c.schedule + "' (expected cosine or constant)");
  }
  if (c.max_text_length < 0 || (c.max_text_length > 0 && c.max_text_length < 3)) {
    return bad("max_text_length", "must be 0 (task default) or at least 3");
  }
  if (c.checkpoint_every < 0) return bad("checkpoint_every", "must not be negative");
  if (c.keep_checkpoints < 1) return bad("keep_checkpoints", "must be at least 1");
  if (c.workers < 1) return bad("workers", "must be at least 1");
  if (c.prefetch < 1) return bad("prefetch", "must be at least 1");
  if (!(c.crop_min_scale > 0 && c.crop_min_scale <= 1)) {
    return bad("crop_min_scale", "must be in (0, 1] (1: no crop)");
  }
  if (c.text_negatives && c.task != TrainTask::kPretrain && c.task != TrainTask::kFilter) {
    return bad("text_negatives", "needs a task with ITM (pretrain or filter)");
  }
  for (const std::string& s : c.data.sources) {
    if (s != "web" && s != "synthetic" && s != "human") {
      return bad("data.sources", "holds '" + s + "' (expected web, synthetic or human)");
    }
  }
  for (const std::string& d : c.data.decisions) {
    if (d != "keep" && d != "drop" && d != "undecided") {
      return bad("data.decisions", "holds '" + d + "' (expected keep, drop or undecided)");
    }
  }
  return Status::ok();
}

Result<TrainJobConfig> train_config_from_json(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid(source + ": not valid JSON");
  TrainJobConfig c;
  if (Status s = read_config(j, c, source); !s) return s;
  if (Status s = validate(c, source); !s) return s;
  return c;
}

Result<TrainJobConfig> load_train_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found(path + ": cannot open the training config");
  std::ostringstream text;
  text << in.rdbuf();
  return train_config_from_json(text.str(), path);
}

Status apply_overrides(TrainJobConfig& config, const std::string& patch_json,
                       const std::string& source) {
  json patch = json::parse(patch_json, nullptr, false);
  if (patch.is_discarded() || !patch.is_object()) {
    return Status::invalid(source + ": overrides are not a JSON object");
  }
  json base = json::parse(to_json(config));
  base.merge_patch(patch);
  TrainJobConfig out;
  if (Status s = read_config(base, out, source); !s) return s;
  if (Status s = validate(out, source); !s) return s;
  config = out;
  return Status::ok();
}

}  // namespace capfilt::core
