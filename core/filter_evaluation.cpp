// `capfilt eval filter`: the filter's stored scores and the project's decisions against noise
// labels (core/evaluation.h).

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <unordered_map>

#include "core/dataset_readers_internal.h"
#include "core/evaluation.h"
#include "core/text_checks.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Result<std::vector<NoiseLabel>> labels_from_json(const json& doc, const std::string& name) {
  const json* list = doc.is_object() ? detail::first_member(doc, {"captions"}) : &doc;
  if (!list || !list->is_array()) {
    return Status::invalid(
        name + ": expected {\"captions\": [...]} as ground-truth/noise_labels.json has");
  }
  std::vector<NoiseLabel> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    const json* noisy = detail::first_member(e, {"noisy"});
    NoiseLabel label;
    if (e.is_object() && e.contains("caption_id") && e["caption_id"].is_number_integer()) {
      label.caption_id = e["caption_id"].get<int64_t>();
    }
    label.image = detail::string_member(e, "image");
    label.caption = trim_ascii(detail::string_member(e, "caption"));
    if (!noisy || !noisy->is_boolean() || (label.caption_id == 0 && label.image.empty())) {
      return Status::invalid(
          name + " record " + std::to_string(i + 1) +
          ": needs \"noisy\" (true/false) and \"image\" + \"caption\" or \"caption_id\"");
    }
    label.noisy = noisy->get<bool>();
    label.kind = detail::string_member(e, "noise_kind");
    if (label.kind.empty()) label.kind = label.noisy ? "noisy" : "none";
    out.push_back(std::move(label));
  }
  return out;
}

// RFC 4180 fields (quotes, doubled quotes, line breaks inside quotes); records by line.
std::vector<std::vector<std::string>> csv_records(const std::string& text, char delimiter) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = any = true;
    } else if (c == delimiter) {
      fields.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        fields.push_back(std::move(field));
        records.push_back(std::move(fields));
      }
      fields.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || !field.empty()) {
    fields.push_back(std::move(field));
    records.push_back(std::move(fields));
  }
  return records;
}

bool parse_flag(std::string v, bool* out) {
  v = trim_ascii(v);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool yes = v == "1" || v == "true" || v == "yes" || v == "noisy";
  const bool no = v == "0" || v == "false" || v == "no" || v == "clean";
  *out = yes;
  return yes || no;
}

Result<std::vector<NoiseLabel>> labels_from_csv(const std::string& text, const std::string& name) {
  const char delimiter =
      text.find('\t') != std::string::npos && text.find(',') == std::string::npos ? '\t' : ',';
  const auto records = csv_records(text, delimiter);
  if (records.empty()) return Status::invalid(name + ": empty labels file");
  std::map<std::string, size_t> column;
  for (size_t c = 0; c < records[0].size(); ++c) column[trim_ascii(records[0][c])] = c;
  const bool by_id = column.count("caption_id") > 0;
  if (!column.count("noisy") || (!by_id && (!column.count("image") || !column.count("caption")))) {
    return Status::invalid(name +
                           " line 1: the header must name noisy and caption_id, or noisy, "
                           "image and caption");
  }
  std::vector<NoiseLabel> out;
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& f = records[r];
    auto get = [&](const char* key) -> std::string {
      auto it = column.find(key);
      return it == column.end() || it->second >= f.size() ? std::string() : f[it->second];
    };
    const std::string where = name + " record " + std::to_string(r + 1);
    NoiseLabel label;
    if (!parse_flag(get("noisy"), &label.noisy)) {
      return Status::invalid(where + ": noisy must be 0 or 1, not \"" + get("noisy") + "\"");
    }
    if (by_id) {
      try {
        label.caption_id = std::stoll(get("caption_id"));
      } catch (const std::exception&) {
        return Status::invalid(where + ": caption_id \"" + get("caption_id") +
                               "\" is not a number");
      }
    } else {
      label.image = trim_ascii(get("image"));
      label.caption = trim_ascii(get("caption"));
    }
    label.kind = trim_ascii(get("noise_kind"));
    if (label.kind.empty()) label.kind = label.noisy ? "noisy" : "none";
    out.push_back(std::move(label));
  }
  return out;
}

std::string pair_key(const std::string& image, const std::string& caption) {
  return image + '\0' + caption;
}

struct LabelledScore {
  const NoiseLabel* label = nullptr;
  double itm = 0, itc = 0;
};

double auc_of(const std::vector<LabelledScore>& rows, double LabelledScore::*score) {
  std::vector<double> scores;
  std::vector<bool> positive;
  for (const auto& r : rows) {
    if (std::isnan(r.*score)) continue;
    scores.push_back(-(r.*score));  // a low score marks the noisy caption
    positive.push_back(r.label->noisy);
  }
  return eval::roc_auc(scores, positive);
}

eval::ThresholdChoice best_of(const std::vector<LabelledScore>& rows,
                              double LabelledScore::*score) {
  std::vector<double> scores;
  std::vector<bool> positive;
  for (const auto& r : rows) {
    if (std::isnan(r.*score)) continue;
    scores.push_back(r.*score);
    positive.push_back(r.label->noisy);
  }
  return eval::best_f1_threshold_below(scores, positive);
}

void fill_kinds(const std::vector<NoiseLabel>& labels, const std::vector<LabelledScore>& scored,
                const std::vector<const NoiseLabel*>& found, double threshold,
                FilterEvaluation* e) {
  std::map<std::string, NoiseKindFigures> kinds;
  for (const auto& l : labels) ++kinds[l.kind].labelled;
  for (const NoiseLabel* l : found) ++kinds[l->kind].in_project;
  std::vector<LabelledScore> clean;
  for (const auto& s : scored) {
    NoiseKindFigures& k = kinds[s.label->kind];
    ++k.scored;
    k.mean_itm += s.itm;
    if (s.itm < threshold) ++k.dropped;
    if (!s.label->noisy) clean.push_back(s);
  }
  for (auto& [name, k] : kinds) {
    k.kind = name;
    if (k.scored > 0) k.mean_itm /= static_cast<double>(k.scored);
    std::vector<LabelledScore> versus = clean;
    for (const auto& s : scored) {
      if (s.label->noisy && s.label->kind == name) versus.push_back(s);
    }
    k.auc_itm = auc_of(versus, &LabelledScore::itm);
    k.auc_itc = auc_of(versus, &LabelledScore::itc);
    e->kinds.push_back(k);
  }
}

}  // namespace

Result<std::vector<NoiseLabel>> read_noise_labels(const std::string& path) {
  Result<std::string> text = detail::read_file_bytes(path);
  if (!text) return text.status();
  const std::string name = fs::path(path).filename().string();
  const size_t first = text->find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text.value()[first] == '{' || text.value()[first] == '[')) {
    Result<json> doc = detail::parse_json(text.value(), name);
    if (!doc) return doc.status();
    return labels_from_json(doc.value(), name);
  }
  return labels_from_csv(text.value(), name);
}

Result<FilterEvaluation> evaluate_filter(db::Project& project,
                                         const std::vector<NoiseLabel>& labels,
                                         const FilterEvalOptions& options) {
  auto model = project.model(options.model_id);
  if (!model) return model.status();
  // Every caption of the project with this model's scores, by id and by (image, text); a web
  // caption wins over a synthetic one with the same text, since noise labels are about web text.
  std::unordered_map<int64_t, db::PairRow> by_id;
  std::unordered_map<std::string, int64_t> by_text;
  db::PairFilter filter;
  filter.score_model_id = options.model_id;
  Status walked = project.for_each_pair(filter, [&](const db::PairRow& row) {
    const std::string key = pair_key(row.image.path, row.caption.text);
    auto it = by_text.find(key);
    if (it == by_text.end() || row.caption.source == db::CaptionSource::kWeb)
      by_text[key] = row.caption_id;
    by_id.emplace(row.caption_id, row);
    return Status::ok();
  });
  if (!walked) return walked;

  FilterEvaluation e;
  e.model_id = options.model_id;
  e.threshold = options.threshold;
  e.labels = static_cast<int64_t>(labels.size());
  std::vector<const NoiseLabel*> found;
  std::vector<LabelledScore> scored;
  std::vector<bool> decided_drop, decided_noisy;
  for (const NoiseLabel& label : labels) {
    int64_t id = label.caption_id;
    if (id == 0) {
      auto it = by_text.find(pair_key(label.image, label.caption));
      if (it == by_text.end()) continue;
      id = it->second;
    }
    auto row = by_id.find(id);
    if (row == by_id.end()) continue;
    found.push_back(&label);
    if (row->second.decision != db::Decision::kUndecided) {
      decided_drop.push_back(row->second.decision == db::Decision::kDrop);
      decided_noisy.push_back(label.noisy);
    }
    if (!row->second.itm) continue;
    scored.push_back(
        {&label, *row->second.itm,
         row->second.itc ? *row->second.itc : std::numeric_limits<double>::quiet_NaN()});
  }
  e.in_project = static_cast<int64_t>(found.size());
  e.scored = static_cast<int64_t>(scored.size());
  if (scored.empty()) {
    return Status::invalid("model " + std::to_string(options.model_id) + " (" + model->name +
                           ") has scored none of the " + std::to_string(labels.size()) +
                           " labelled captions (" + std::to_string(found.size()) +
                           " of them are in the project): run CapFilt with this filter first");
  }
  std::vector<bool> predicted, actual;
  for (const auto& s : scored) {
    predicted.push_back(s.itm < options.threshold);
    actual.push_back(s.label->noisy);
    e.noisy += s.label->noisy ? 1 : 0;
  }
  e.at_threshold = eval::confusion(predicted, actual);
  e.auc_itm = auc_of(scored, &LabelledScore::itm);
  e.auc_itc = auc_of(scored, &LabelledScore::itc);
  e.best_itm = best_of(scored, &LabelledScore::itm);
  e.best_itc = best_of(scored, &LabelledScore::itc);
  e.decided = static_cast<int64_t>(decided_drop.size());
  e.decisions = eval::confusion(decided_drop, decided_noisy);
  fill_kinds(labels, scored, found, options.threshold, &e);
  return e;
}

}  // namespace capfilt::core
