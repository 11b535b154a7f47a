#include "core/job_progress.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace capfilt::core {
namespace {

using nlohmann::json;

struct KindName {
  ProgressEventKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {{ProgressEventKind::kStart, "start"},
                                   {ProgressEventKind::kProgress, "progress"},
                                   {ProgressEventKind::kCheckpoint, "checkpoint"},
                                   {ProgressEventKind::kMessage, "message"},
                                   {ProgressEventKind::kFinished, "finished"}};

bool parse_kind(const std::string& name, ProgressEventKind* out) {
  for (const auto& k : kKindNames) {
    if (name == k.name) {
      *out = k.kind;
      return true;
    }
  }
  return false;
}

// JSON has no NaN or infinity; a diverged loss is written as null and read back as NaN.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double read_number(const json& v) { return v.is_number() ? v.get<double>() : std::nan(""); }

std::string duration_text(double seconds) {
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s / 60) % 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%llds", s);
  }
  return buf;
}

std::string metrics_text(const std::map<std::string, double>& metrics) {
  std::string out;
  char buf[96];
  for (const auto& [name, value] : metrics) {
    std::snprintf(buf, sizeof buf, "  %s %.4g", name.c_str(), value);
    out += buf;
  }
  return out;
}

}  // namespace

const char* to_string(ProgressEventKind kind) {
  for (const auto& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "progress";
}

std::string to_json_line(const ProgressEvent& e) {
  json j;
  j["event"] = to_string(e.kind);
  j["time_ms"] = e.time_ms;
  switch (e.kind) {
    case ProgressEventKind::kStart:
      j["kind"] = e.job_kind;
      j["job_id"] = e.job_id;
      j["total"] = e.total;
      j["unit"] = e.unit;
      break;
    case ProgressEventKind::kProgress:
      j["done"] = e.done;
      j["total"] = e.total;
      j["rate"] = number(e.rate);
      if (e.eta_s) j["eta_s"] = number(*e.eta_s);
      break;
    case ProgressEventKind::kCheckpoint:
      j["path"] = e.path;
      break;
    case ProgressEventKind::kMessage:
      j["level"] = e.level.empty() ? "info" : e.level;
      j["text"] = e.text;
      break;
    case ProgressEventKind::kFinished:
      j["status"] = e.status;
      j["text"] = e.text;
      if (!e.path.empty()) j["path"] = e.path;
      break;
  }
  if (!e.stage.empty()) j["stage"] = e.stage;
  if (e.step) j["step"] = *e.step;
  if (!e.metrics.empty()) {
    json m = json::object();
    for (const auto& [name, value] : e.metrics) m[name] = number(value);
    j["metrics"] = m;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ProgressEvent> parse_progress_line(const std::string& line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::invalid("progress line is not a JSON object: " + line.substr(0, 120));
  }
  ProgressEvent e;
  const auto event = j.find("event");
  if (event == j.end() || !event->is_string() || !parse_kind(event->get<std::string>(), &e.kind)) {
    return Status::invalid("progress line has no known \"event\": " + line.substr(0, 120));
  }
  auto str = [&](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
  };
  auto int64 = [&](const char* key, int64_t& out) {
    if (auto it = j.find(key); it != j.end() && it->is_number()) out = it->get<int64_t>();
  };
  int64("time_ms", e.time_ms);
  str("kind", e.job_kind);
  int64("job_id", e.job_id);
  str("unit", e.unit);
  str("stage", e.stage);
  int64("done", e.done);
  int64("total", e.total);
  if (auto it = j.find("rate"); it != j.end()) e.rate = read_number(*it);
  if (auto it = j.find("eta_s"); it != j.end() && it->is_number()) e.eta_s = it->get<double>();
  if (auto it = j.find("step"); it != j.end() && it->is_number()) e.step = it->get<int64_t>();
  str("path", e.path);
  str("level", e.level);
  str("status", e.status);
  str("text", e.text);
  if (auto it = j.find("metrics"); it != j.end() && it->is_object()) {
    for (const auto& [name, value] : it->items()) e.metrics[name] = read_number(value);
  }
  return e;
}

std::string to_human_line(const ProgressEvent& e) {
  char buf[256];
  switch (e.kind) {
    case ProgressEventKind::kStart:
      std::snprintf(buf, sizeof buf, "%s: %lld %s", e.job_kind.c_str(),
                    static_cast<long long>(e.total), e.unit.c_str());
      return buf;
    case ProgressEventKind::kProgress: {
      std::string out = e.stage.empty() ? "" : e.stage + ": ";
      if (e.step) {
        std::snprintf(buf, sizeof buf, "step %lld/%lld", static_cast<long long>(*e.step),
                      static_cast<long long>(e.total));
      } else {
        std::snprintf(buf, sizeof buf, "%lld/%lld", static_cast<long long>(e.done),
                      static_cast<long long>(e.total));
      }
      out += buf;
      std::snprintf(buf, sizeof buf, "  %.2f/s", e.rate);
      out += buf;
      if (e.eta_s) out += "  ETA " + duration_text(*e.eta_s);
      return out + metrics_text(e.metrics);
    }
    case ProgressEventKind::kCheckpoint:
      return "checkpoint written: " + e.path;
    case ProgressEventKind::kMessage:
      return (e.level.empty() || e.level == "info" ? "" : e.level + ": ") + e.text;
    case ProgressEventKind::kFinished:
      return e.status + (e.text.empty() ? "" : ": " + e.text) + metrics_text(e.metrics);
  }
  return {};
}

void ProgressWriter::write(const ProgressEvent& event) {
  out_ << (json_ ? to_json_line(event) : to_human_line(event)) << '\n';
  out_.flush();
}

void RateMeter::fill(ProgressEvent& event, int64_t done, int64_t now_ms) const {
  event.done = done;
  event.total = total_;
  const double seconds = static_cast<double>(now_ms - start_ms_) / 1000.0;
  event.rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  if (event.rate > 0 && total_ >= done) {
    event.eta_s = static_cast<double>(total_ - done) / event.rate;
  } else {
    event.eta_s.reset();
  }
}

}  // namespace capfilt::core
