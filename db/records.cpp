#include "db/records.h"

#include <array>
#include <utility>

namespace capfilt::db {
namespace {

template <typename E, size_t N>
const char* name_of(const std::array<std::pair<E, const char*>, N>& table, E value) {
  for (const auto& entry : table)
    if (entry.first == value) return entry.second;
  return "?";
}

template <typename E, size_t N>
bool value_of(const std::array<std::pair<E, const char*>, N>& table, const std::string& name,
              E* out) {
  for (const auto& entry : table) {
    if (name == entry.second) {
      *out = entry.first;
      return true;
    }
  }
  return false;
}

const std::array<std::pair<CaptionSource, const char*>, 3> kSources = {
    {{CaptionSource::kWeb, "web"},
     {CaptionSource::kSynthetic, "synthetic"},
     {CaptionSource::kHuman, "human"}}};
const std::array<std::pair<Decision, const char*>, 3> kDecisions = {
    {{Decision::kUndecided, "undecided"}, {Decision::kKeep, "keep"}, {Decision::kDrop, "drop"}}};
const std::array<std::pair<DecisionOrigin, const char*>, 2> kOrigins = {
    {{DecisionOrigin::kAuto, "auto"}, {DecisionOrigin::kCurator, "curator"}}};
const std::array<std::pair<JobStatus, const char*>, 5> kJobStatuses = {
    {{JobStatus::kQueued, "queued"},
     {JobStatus::kRunning, "running"},
     {JobStatus::kSucceeded, "succeeded"},
     {JobStatus::kFailed, "failed"},
     {JobStatus::kCancelled, "cancelled"}}};

}  // namespace

const char* to_string(CaptionSource v) { return name_of(kSources, v); }
const char* to_string(Decision v) { return name_of(kDecisions, v); }
const char* to_string(DecisionOrigin v) { return name_of(kOrigins, v); }
const char* to_string(JobStatus v) { return name_of(kJobStatuses, v); }
bool parse(const std::string& n, CaptionSource* out) { return value_of(kSources, n, out); }
bool parse(const std::string& n, Decision* out) { return value_of(kDecisions, n, out); }
bool parse(const std::string& n, DecisionOrigin* out) { return value_of(kOrigins, n, out); }
bool parse(const std::string& n, JobStatus* out) { return value_of(kJobStatuses, n, out); }

SortKey sort_key(const PairRow& row, PairSort sort) {
  SortKey key;
  key.caption_id = row.caption_id;
  switch (sort) {
    case PairSort::kItm: key.number = row.itm.value_or(0); break;
    case PairSort::kItc: key.number = row.itc.value_or(0); break;
    case PairSort::kPath: key.text = row.image.path; break;
    case PairSort::kDecidedTime: key.number = static_cast<double>(row.decided_ms); break;
    case PairSort::kCaptionId: key.number = static_cast<double>(row.caption_id); break;
  }
  return key;
}

InsertCounts& InsertCounts::operator+=(const InsertCounts& o) {
  images_added += o.images_added;
  images_skipped += o.images_skipped;
  captions_added += o.captions_added;
  captions_skipped += o.captions_skipped;
  return *this;
}

}  // namespace capfilt::db
