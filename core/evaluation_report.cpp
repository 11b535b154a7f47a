// Evaluation results as JSON and as text, and stored with the model (core/evaluation.h).

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/evaluation.h"

namespace capfilt::core {
namespace {

using nlohmann::json;

json number(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

json counts_json(const eval::BinaryCounts& c) {
  return {{"precision", number(c.precision())},
          {"recall", number(c.recall())},
          {"f1", number(c.f1())},
          {"true_positive", c.true_positive},
          {"false_positive", c.false_positive},
          {"false_negative", c.false_negative},
          {"true_negative", c.true_negative}};
}

json threshold_json(const eval::ThresholdChoice& t) {
  json j = counts_json(t.counts);
  j["threshold"] = number(t.threshold);
  return j;
}

json recall_json(const eval::RecallAtK& r) {
  return {{"r1", r.r1}, {"r5", r.r5}, {"r10", r.r10}, {"mean", r.mean()}};
}

json retrieval_json(const eval::RetrievalRecall& r) {
  return {{"image_to_text", recall_json(r.image_to_text)},
          {"text_to_image", recall_json(r.text_to_image)}};
}

std::string fixed(double v, int digits = 3) {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string percent(double v) {
  return std::isfinite(v) ? fixed(100 * v, 1) : "n/a";
}

std::string counts_text(const eval::BinaryCounts& c) {
  return "precision " + fixed(c.precision()) + "  recall " + fixed(c.recall()) + "  F1 " +
         fixed(c.f1()) + "  (tp " + std::to_string(c.true_positive) + ", fp " +
         std::to_string(c.false_positive) + ", fn " + std::to_string(c.false_negative) + ", tn " +
         std::to_string(c.true_negative) + ")";
}

}  // namespace

std::string to_json(const FilterEvaluation& e) {
  json kinds = json::object();
  for (const auto& k : e.kinds) {
    kinds[k.kind] = {
        {"labelled", k.labelled},
        {"in_project", k.in_project},
        {"scored", k.scored},
        {"dropped", k.dropped},
        {"drop_rate", k.scored ? number(double(k.dropped) / double(k.scored)) : json(nullptr)},
        {"mean_itm", k.scored ? number(k.mean_itm) : json(nullptr)},
        {"auc_itm", number(k.auc_itm)},
        {"auc_itc", number(k.auc_itc)}};
  }
  json j = {{"model_id", e.model_id},
            {"labels", e.labels},
            {"in_project", e.in_project},
            {"scored", e.scored},
            {"noisy", e.noisy},
            {"threshold", e.threshold},
            {"at_threshold", counts_json(e.at_threshold)},
            {"auc_itm", number(e.auc_itm)},
            {"auc_itc", number(e.auc_itc)},
            {"best_f1_itm", threshold_json(e.best_itm)},
            {"best_f1_itc", threshold_json(e.best_itc)},
            {"decided", e.decided},
            {"by_kind", kinds}};
  if (e.decided > 0) j["decisions"] = counts_json(e.decisions);
  return j.dump();
}

std::string to_text(const FilterEvaluation& e) {
  std::ostringstream out;
  out << "filter model " << e.model_id << ": " << e.scored << " labelled captions scored ("
      << e.noisy << " noisy) of " << e.labels << " labels, " << e.in_project << " in the project\n"
      << "drop if ITM < " << fixed(e.threshold, 2) << ": " << counts_text(e.at_threshold) << "\n"
      << "ROC-AUC  ITM " << fixed(e.auc_itm) << "  ITC " << fixed(e.auc_itc) << "\n"
      << "best F1  ITM < " << fixed(e.best_itm.threshold, 4) << ": F1 "
      << fixed(e.best_itm.counts.f1()) << "   ITC < " << fixed(e.best_itc.threshold, 4) << ": F1 "
      << fixed(e.best_itc.counts.f1()) << "\n";
  if (e.decided > 0) {
    out << "project decisions (" << e.decided << " decided): " << counts_text(e.decisions) << "\n";
  }
  char line[160];
  std::snprintf(line, sizeof line, "%-16s %8s %8s %8s %9s %9s %8s %8s\n", "kind", "labelled",
                "in proj", "scored", "dropped%", "mean ITM", "AUC ITM", "AUC ITC");
  out << line;
  for (const auto& k : e.kinds) {
    std::snprintf(line, sizeof line, "%-16s %8lld %8lld %8lld %9s %9s %8s %8s\n", k.kind.c_str(),
                  static_cast<long long>(k.labelled), static_cast<long long>(k.in_project),
                  static_cast<long long>(k.scored),
                  k.scored ? percent(double(k.dropped) / double(k.scored)).c_str() : "n/a",
                  k.scored ? fixed(k.mean_itm).c_str() : "n/a", fixed(k.auc_itm).c_str(),
                  fixed(k.auc_itc).c_str());
    out << line;
  }
  if (e.in_project < e.labels) {
    out << e.labels - e.in_project
        << " labelled captions are not in the project (the importer skips empty captions, for "
           "one) and are left out of the figures\n";
  }
  return out.str();
}

std::string to_json(const RetrievalEvaluation& e) {
  return json{{"images", e.images},
              {"texts", e.texts},
              {"k", e.k},
              {"itm_pairs_scored", e.pairs_scored},
              {"itc", retrieval_json(e.itc)},
              {"itc_itm", retrieval_json(e.itc_itm)}}
      .dump();
}

std::string to_text(const RetrievalEvaluation& e) {
  std::ostringstream out;
  out << "retrieval: " << e.images << " images, " << e.texts << " texts; ITM re-ranks the top "
      << e.k << " (" << e.pairs_scored << " pairs)\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-10s %-14s %6s %6s %6s\n", "", "", "R@1", "R@5", "R@10");
  out << line;
  auto row = [&](const char* method, const char* direction, const eval::RecallAtK& r) {
    std::snprintf(line, sizeof line, "%-10s %-14s %6s %6s %6s\n", method, direction,
                  percent(r.r1).c_str(), percent(r.r5).c_str(), percent(r.r10).c_str());
    out << line;
  };
  row("ITC", "image->text", e.itc.image_to_text);
  row("ITC", "text->image", e.itc.text_to_image);
  row("ITC+ITM", "image->text", e.itc_itm.image_to_text);
  row("ITC+ITM", "text->image", e.itc_itm.text_to_image);
  return out.str();
}

std::string to_json(const CaptionEvaluation& e) {
  return json{{"images", e.images},
              {"bleu_4", e.bleu.bleu[3]},
              {"bleu", {e.bleu.bleu[0], e.bleu.bleu[1], e.bleu.bleu[2], e.bleu.bleu[3]}},
              {"brevity_penalty", e.bleu.brevity_penalty},
              {"cider_d", e.cider.score}}
      .dump();
}

std::string to_text(const CaptionEvaluation& e) {
  return "captioning: " + std::to_string(e.images) + " images\nBLEU-4 " + fixed(e.bleu.bleu[3], 4) +
         " (BLEU-1 " + fixed(e.bleu.bleu[0], 4) + ", brevity penalty " +
         fixed(e.bleu.brevity_penalty, 4) + ")\nCIDEr-D " + fixed(e.cider.score, 4) + "\n";
}

std::string to_json(const VqaEvaluation& e) {
  json kinds = json::object();
  for (const auto& [kind, acc] : e.by_kind) {
    kinds[kind] = {{"accuracy", acc}, {"questions", e.kind_counts.at(kind)}};
  }
  return json{{"questions", e.questions}, {"accuracy", e.accuracy}, {"by_kind", kinds}}.dump();
}

std::string to_text(const VqaEvaluation& e) {
  std::string out = "VQA: " + std::to_string(e.questions) + " questions, accuracy " +
                    percent(e.accuracy) + " %\n";
  for (const auto& [kind, acc] : e.by_kind) {
    out += "  " + kind + ": " + percent(acc) + " % of " + std::to_string(e.kind_counts.at(kind)) +
           "\n";
  }
  return out;
}

Status store_model_metrics(db::Project& project, int64_t model_id, const std::string& key,
                           const std::string& value_json) {
  auto model = project.model(model_id);
  if (!model) return model.status();
  json value = json::parse(value_json, nullptr, false);
  if (value.is_discarded()) return Status::invalid("metrics for " + key + " are not valid JSON");
  json metrics =
      json::parse(model->metrics_json.empty() ? "{}" : model->metrics_json, nullptr, false);
  if (metrics.is_discarded() || !metrics.is_object()) metrics = json::object();
  metrics[key] = value;
  return project.update_model_metrics(model_id, metrics.dump());
}

}  // namespace capfilt::core
