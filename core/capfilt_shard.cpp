#include "core/capfilt_shard.h"

#include <nlohmann/json.hpp>

#include "core/model_registry.h"

namespace capfilt::core {
namespace {

// Everything of the options that changes what a run writes, beyond threshold and shard.
std::string run_json(const CapfiltRunOptions& o) {
  const CaptionOptions& c = o.caption;
  nlohmann::json j = {{"method", to_string(c.method)},
                      {"num_beams", c.num_beams},
                      {"num_captions", c.num_captions},
                      {"top_p", c.top_p},
                      {"top_k", c.top_k},
                      {"temperature", c.temperature},
                      {"repetition_penalty", c.repetition_penalty},
                      {"length_penalty", c.length_penalty},
                      {"max_length", c.max_length},
                      {"min_length", c.min_length},
                      {"seed", c.seed},
                      {"prompt", c.prompt},
                      {"split", o.split}};
  return j.dump();
}

// The model's record with its id in the project (-1 when the project does not register it).
Result<db::ModelRecord> identity(db::Project& project, const BlipEngine& engine,
                                 const std::string& task) {
  db::ModelRecord record = model_record(engine.info(), task);
  auto id = find_registered_model(project, record);
  if (!id) return id.status();
  if (id.value() != 0) {
    auto registered = project.model(id.value());
    if (!registered) return registered.status();
    if (registered->config_json != record.config_json) {
      return Status::invalid(
          "project " + project.path() + " registers " + record.checkpoint_path + " as model #" +
          std::to_string(id.value()) + " with another configuration (" +
          db::config_fingerprint(registered->config_json) + ", now " +
          db::config_fingerprint(record.config_json) +
          "): the folder holds another model now; give the model another folder");
    }
    record = registered.value();
  }
  return record;
}

}  // namespace

Result<db::CapfiltResultsHeader> results_header(db::Project& project, CapfiltModels& models,
                                                const CapfiltRunOptions& options) {
  if (models.captioner == nullptr || models.filter == nullptr)
    return Status::invalid("no models given");
  db::CapfiltResultsHeader h;
  auto uuid = project.uuid();
  if (!uuid) return uuid.status();
  h.project_uuid = uuid.value();
  h.project_path = project.path();
  auto captioner = identity(project, *models.captioner, "captioner");
  if (!captioner) return captioner.status();
  auto filter = identity(project, *models.filter, "filter");
  if (!filter) return filter.status();
  h.captioner = captioner.value();
  h.filter = filter.value();
  h.threshold = options.threshold;
  h.shard_index = options.shard_index;
  h.shard_count = options.shard_count;
  h.run_json = run_json(options);
  models.captioner_id = h.captioner.id != 0 ? h.captioner.id : -1;
  models.filter_id = h.filter.id != 0 ? h.filter.id : -1;
  return h;
}

}  // namespace capfilt::core
