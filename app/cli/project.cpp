// `capfilt project init|stats`, `capfilt pairs`, `capfilt decide`, `capfilt undo`, `capfilt log`:
// the curation store from the command line.

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/cli/commands.h"
#include "db/project.h"

namespace capfilt::app {
namespace {

std::unique_ptr<db::Project> open_project(const std::string& path, bool create) {
  db::OpenOptions options;
  options.create_if_missing = create;
  auto project = db::Project::open(path, options);
  if (!project) throw std::runtime_error(project.status().message());
  return std::move(project).value();
}

void ok_or_throw(const Status& s) {
  if (!s) throw std::runtime_error(s.message());
}

template <typename E>
std::vector<E> parse_list(const std::vector<std::string>& names, const char* option) {
  std::vector<E> out;
  for (const auto& name : names) {
    E value{};
    if (!db::parse(name, &value))
      throw std::runtime_error(std::string(option) + ": unknown value \"" + name + "\"");
    out.push_back(value);
  }
  return out;
}

std::string score_text(const std::optional<double>& score) {
  if (!score) return "   -  ";
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%6.3f", *score);
  return buffer;
}

void print_stats(db::Project& project) {
  const db::DecisionCounts counts = project.decision_counts().value();
  std::cout << "project    " << project.path() << " (schema " << db::schema_version() << ", id "
            << project.uuid().value() << ")\n"
            << "captions   " << counts.undecided + counts.keep + counts.drop << ": " << counts.keep
            << " keep, " << counts.drop << " drop, " << counts.undecided << " undecided\n"
            << "models     " << project.models().value().size() << "\n"
            << "imports    " << project.import_runs().value().size() << "\n";
  auto histograms = project.itm_histogram(10);
  ok_or_throw(histograms.status());
  for (const auto& h : histograms.value()) {
    std::cout << "ITM " << db::to_string(h.source) << ":";
    for (size_t k = 0; k < h.counts.size(); ++k) std::cout << " " << h.counts[k];
    std::cout << "  (10 bins over [0, 1])\n";
  }
}

struct PairsArgs {
  std::string project, split, search, sort = "id";
  std::vector<std::string> decisions, sources;
  std::optional<double> itm_min, itm_max, itc_min, itc_max;
  int64_t model = 0, page = 1, page_size = 20;
  bool descending = false;
};

db::PageRequest to_request(const PairsArgs& a) {
  db::PageRequest r;
  r.filter.decisions = parse_list<db::Decision>(a.decisions, "--decision");
  r.filter.sources = parse_list<db::CaptionSource>(a.sources, "--source");
  r.filter.split = a.split;
  r.filter.text_query = a.search;
  r.filter.score_model_id = a.model;
  r.filter.itm_min = a.itm_min;
  r.filter.itm_max = a.itm_max;
  r.filter.itc_min = a.itc_min;
  r.filter.itc_max = a.itc_max;
  const std::vector<std::pair<std::string, db::PairSort>> sorts = {
      {"id", db::PairSort::kCaptionId}, {"itm", db::PairSort::kItm}, {"itc", db::PairSort::kItc},
      {"path", db::PairSort::kPath},    {"time", db::PairSort::kDecidedTime}};
  auto sort = std::find_if(sorts.begin(), sorts.end(), [&](auto& s) { return s.first == a.sort; });
  if (sort == sorts.end()) throw std::runtime_error("--sort: id, itm, itc, path or time");
  r.sort = sort->second;
  r.descending = a.descending;
  r.limit = std::max<int64_t>(1, a.page_size);
  r.offset = (std::max<int64_t>(1, a.page) - 1) * r.limit;
  return r;
}

void print_page(const db::Page& page, const db::PageRequest& r) {
  std::printf("%8s  %-9s  %-9s  %6s  %6s  %-28s  %s\n", "caption", "source", "decision", "itm",
              "itc", "image", "text");
  for (const auto& row : page.rows) {
    std::printf("%8lld  %-9s  %-9s  %s  %s  %-28s  %s\n", static_cast<long long>(row.caption_id),
                db::to_string(row.caption.source), db::to_string(row.decision),
                score_text(row.itm).c_str(), score_text(row.itc).c_str(), row.image.path.c_str(),
                row.caption.text.c_str());
  }
  const int64_t pages = (page.total + r.limit - 1) / r.limit;
  std::printf("page %lld of %lld, %lld pairs match\n", static_cast<long long>(r.offset / r.limit + 1),
              static_cast<long long>(pages), static_cast<long long>(page.total));
}

void add_pairs_command(CLI::App& app) {
  auto a = std::make_shared<PairsArgs>();
  auto* cmd = app.add_subcommand("pairs", "List a page of a project's pairs, filtered and sorted");
  cmd->add_option("project", a->project, "project file")->required();
  cmd->add_option("--decision", a->decisions, "undecided, keep, drop (comma-separated)")
      ->delimiter(',');
  cmd->add_option("--source", a->sources, "web, synthetic, human (comma-separated)")->delimiter(',');
  cmd->add_option("--split", a->split, "train, val, test");
  cmd->add_option("--search", a->search, "full-text query over captions (FTS5 syntax)");
  cmd->add_option("--itm-min", a->itm_min);
  cmd->add_option("--itm-max", a->itm_max);
  cmd->add_option("--itc-min", a->itc_min);
  cmd->add_option("--itc-max", a->itc_max);
  cmd->add_option("--model", a->model, "model whose scores to show and filter on (default: newest)");
  cmd->add_option("--sort", a->sort, "id, itm, itc, path or time")->capture_default_str();
  cmd->add_flag("--desc", a->descending, "sort descending");
  cmd->add_option("--page", a->page, "page number, from 1")->capture_default_str();
  cmd->add_option("--page-size", a->page_size)->capture_default_str();
  cmd->callback([a] {
    auto project = open_project(a->project, false);
    const db::PageRequest request = to_request(*a);
    auto page = project->page(request);
    ok_or_throw(page.status());
    print_page(page.value(), request);
  });
}

struct DecideArgs {
  std::string project, curator, reason;
  std::vector<int64_t> keep, drop;
  bool automatic = false;
};

void add_decide_command(CLI::App& app) {
  auto a = std::make_shared<DecideArgs>();
  auto* cmd = app.add_subcommand("decide", "Keep or drop captions (one transaction)");
  cmd->add_option("project", a->project, "project file")->required();
  cmd->add_option("--keep", a->keep, "caption ids to keep")->delimiter(',');
  cmd->add_option("--drop", a->drop, "caption ids to drop")->delimiter(',');
  cmd->add_option("--curator", a->curator, "who decides")->required();
  cmd->add_option("--reason", a->reason);
  cmd->add_flag("--auto", a->automatic, "logged as an automatic decision (a rule or a model)");
  cmd->callback([a] {
    auto project = open_project(a->project, false);
    const auto origin = a->automatic ? db::DecisionOrigin::kAuto : db::DecisionOrigin::kCurator;
    std::vector<db::DecisionInput> decisions;
    for (int64_t id : a->keep) decisions.push_back({id, db::Decision::kKeep, origin, a->curator, a->reason});
    for (int64_t id : a->drop) decisions.push_back({id, db::Decision::kDrop, origin, a->curator, a->reason});
    if (decisions.empty()) throw std::runtime_error("nothing to decide: give --keep or --drop");
    ok_or_throw(project->decide(decisions));
    std::cout << "logged " << decisions.size() << " decision(s)\n";
  });
}

void add_undo_command(CLI::App& app) {
  auto project_path = std::make_shared<std::string>();
  auto curator = std::make_shared<std::string>();
  auto count = std::make_shared<int64_t>(1);
  auto* cmd = app.add_subcommand("undo", "Undo a curator's latest decisions");
  cmd->add_option("project", *project_path, "project file")->required();
  cmd->add_option("--curator", *curator, "whose decisions")->required();
  cmd->add_option("--count", *count, "how many")->capture_default_str();
  cmd->callback([=] {
    auto project = open_project(*project_path, false);
    auto undone = project->undo(*curator, *count);
    ok_or_throw(undone.status());
    std::cout << "undid " << undone.value() << " decision(s) by " << *curator << "\n";
  });
}

// "2026-11-27 13:05:02 UTC" from milliseconds since the epoch.
std::string utc_time(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

void add_log_command(CLI::App& app) {
  auto project_path = std::make_shared<std::string>();
  auto caption = std::make_shared<int64_t>(0);
  auto* cmd = app.add_subcommand("log", "Print the decision log (of one caption, or all)");
  cmd->add_option("project", *project_path, "project file")->required();
  cmd->add_option("--caption", *caption, "caption id");
  cmd->callback([=] {
    auto project = open_project(*project_path, false);
    auto log = project->decision_log(*caption);
    ok_or_throw(log.status());
    for (const auto& e : log.value()) {
      std::printf("#%lld caption %lld %s by %s %s at %s%s%s\n", static_cast<long long>(e.id),
                  static_cast<long long>(e.caption_id), db::to_string(e.decision),
                  db::to_string(e.origin), e.curator.c_str(), utc_time(e.time_ms).c_str(),
                  e.reason.empty() ? "" : (" (" + e.reason + ")").c_str(),
                  e.undone_ms ? (" [undone by " + e.undone_by + "]").c_str() : "");
    }
  });
}

}  // namespace

void add_project_commands(CLI::App& app, const GlobalOptions& /*options*/) {
  auto* project = app.add_subcommand("project", "Create a project or summarise one");
  project->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  auto* init = project->add_subcommand("init", "Create an empty project file");
  init->add_option("project", *path, "project file to create")->required();
  init->callback([path] {
    auto p = open_project(*path, true);
    std::cout << "project " << p->path() << " ready (schema " << db::schema_version() << ")\n";
  });
  auto* stats = project->add_subcommand("stats", "Counts per decision state and ITM histograms");
  stats->add_option("project", *path, "project file")->required();
  stats->callback([path] { print_stats(*open_project(*path, false)); });
  add_pairs_command(app);
  add_decide_command(app);
  add_undo_command(app);
  add_log_command(app);
}

}  // namespace capfilt::app
