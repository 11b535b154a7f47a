#include "core/train_data.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "core/image_locator.h"
#include "db/project.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Status read_entry(const json& e, const std::string& where, const fs::path& root, TrainTask task,
                  TrainPairs& out) {
  if (!e.is_object() || !e.contains("image") || !e.at("image").is_string()) {
    return Status::invalid(where + " has no \"image\" string");
  }
  const std::string path = (root / e.at("image").get_ref<const std::string&>()).string();
  if (task == TrainTask::kVqa) {
    if (!e.contains("question") || !e.at("question").is_string() || !e.contains("answer")) {
      return Status::invalid(where + " needs \"question\" (text) and \"answer\" (text or list)");
    }
    std::vector<std::string> answers;
    const json& a = e.at("answer");
    if (a.is_string()) answers.push_back(a.get<std::string>());
    for (const json& x : a.is_array() ? a : json::array()) {
      if (!x.is_string()) return Status::invalid(where + ": every answer must be text");
      answers.push_back(x.get<std::string>());
    }
    if (answers.empty()) return Status::invalid(where + " has no answer");
    out.add_pair(out.add_image(path), e.at("question").get_ref<const std::string&>(), answers);
    return Status::ok();
  }
  const json* c = e.contains("caption") ? &e.at("caption") : nullptr;
  if (c && c->is_string()) {
    out.add_pair(out.add_image(path), c->get_ref<const std::string&>());
  } else if (c && c->is_array()) {
    for (const json& x : *c) {
      if (!x.is_string()) return Status::invalid(where + ": every caption must be text");
    }
    const std::size_t image = out.add_image(path);
    for (const json& x : *c) out.add_pair(image, x.get_ref<const std::string&>());
  } else {
    return Status::invalid(where + " has no \"caption\" (text or list of texts)");
  }
  return Status::ok();
}

// Each entry becomes pairs as soon as the parser has read it and is then dropped from the
// document, so an annotation file is never held as a whole JSON tree besides its pairs (at a
// million pairs that tree added ~55 MB to the peak).
Status read_file_pairs(const std::string& file, const std::string& image_root, TrainTask task,
                       TrainPairs& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::not_found(file + ": cannot open the annotation file");
  const fs::path root = image_root.empty() ? fs::path(file).parent_path() : fs::path(image_root);
  const Status not_array =
      Status::invalid(file + ": expected a JSON array of {\"image\", \"caption\"} entries");
  Status status = Status::ok();
  bool top_is_array = false;
  size_t index = 0;
  const json::parser_callback_t take = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 0 && event == json::parse_event_t::array_start) top_is_array = true;
    if (depth != 1 || !top_is_array) return true;
    if (event != json::parse_event_t::object_end && event != json::parse_event_t::value &&
        event != json::parse_event_t::array_end) {
      return true;
    }
    if (status) {
      status = read_entry(parsed, file + ": entry " + std::to_string(index), root, task, out);
    }
    ++index;
    return false;  // consumed: keep it out of the document
  };
  const json j = json::parse(in, take, /*allow_exceptions=*/false);
  if (j.is_discarded() || !top_is_array || !j.is_array()) return not_array;
  return status;
}

Result<db::PairFilter> to_filter(const TrainDataSelection& s) {
  db::PairFilter f;
  f.split = s.split;
  for (const std::string& name : s.sources) {
    db::CaptionSource v;
    if (!db::parse(name, &v)) return Status::invalid("unknown caption source '" + name + "'");
    f.sources.push_back(v);
  }
  for (const std::string& name : s.decisions) {
    db::Decision v;
    if (!db::parse(name, &v)) return Status::invalid("unknown decision '" + name + "'");
    f.decisions.push_back(v);
  }
  f.score_model_id = s.score_model_id;
  f.itm_min = s.itm_min;
  f.itm_max = s.itm_max;
  f.itc_min = s.itc_min;
  f.itc_max = s.itc_max;
  return f;
}

}  // namespace

Result<TrainPairs> select_training_pairs(const TrainDataSelection& selection, TrainTask task,
                                         db::Project* project) {
  TrainPairs pairs;
  if (!selection.annotation_files.empty()) {
    for (const std::string& file : selection.annotation_files) {
      if (Status s = read_file_pairs(file, selection.image_root, task, pairs); !s) return s;
    }
    pairs.finish();
    return pairs;
  }
  if (!project) {
    return Status::invalid("the data selection names no annotation file and there is no project");
  }
  if (task == TrainTask::kVqa) {
    return Status::invalid("vqa trains on a question file: give data.annotation_files "
                           "(e.g. the demo's vqa_train.json)");
  }
  auto filter = to_filter(selection);
  if (!filter) return filter.status();
  // Images are found under the dataset roots the imports recorded (as CapFilt and eval find them)
  // unless the selection names a root; a file found under none keeps the first root's path, and
  // the loader reports it as it skips it.
  ImageLocator locator({selection.image_root});
  if (selection.image_root.empty()) {
    auto recorded = ImageLocator::for_project(*project);
    if (!recorded) return recorded.status();
    locator = std::move(recorded).value();
  }
  const fs::path fallback = locator.roots().empty() ? fs::path(project->path()).parent_path()
                                                    : fs::path(locator.roots().front());
  int64_t last_image = -1;
  std::size_t image = 0;
  Status s = project->for_each_pair(*filter, [&](const db::PairRow& row) {
    if (row.image_id != last_image) {  // rows come image by image: one lookup per image
      auto found = locator.find(row.image.path);
      image = pairs.add_image(found ? found.value() : (fallback / row.image.path).string(),
                              row.image_id);
      last_image = row.image_id;
    }
    pairs.add_pair(image, row.caption.text);
    return Status::ok();
  });
  if (!s) return s;
  pairs.finish();
  return pairs;
}

}  // namespace capfilt::core
