// The studio on a 1,000,000-caption project: a benchmark, not a test (prints figures, asserts
// nothing). Builds the project once (500,000 images, a web and a synthetic caption each, all
// scored), then, in this process:
//   - time from process start to the browse table's first page painted (web + undecided, ITM order)
//   - time to fetch a page at the start, middle and end of that list
//   - time to scroll the table to the end and paint it
//   - peak resident memory
// Usage: studio_bench [project-path]   (default: ./studio-bench.capfilt, reused when present)

#include <sys/resource.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QTableView>
#include <QTimer>

#include <algorithm>

#include <cstdio>
#include <filesystem>

#include "ui/browse/browse_view.h"
#include "ui/browse/pair_table_model.h"
#include "ui/shared/pair_page_cache.h"
#include "ui/shared/project_document.h"

namespace {

QElapsedTimer g_since_start;

bool build_project(const std::string& path) {
  auto project = capfilt::db::Project::open(path);
  if (!project) {
    std::fprintf(stderr, "%s\n", project.status().message().c_str());
    return false;
  }
  capfilt::db::ModelRecord model;
  model.name = "bench filter";
  const int64_t model_id = project.value()->add_model(model).value();
  const int kImages = 500000, kBatch = 10000;
  for (int first = 0; first < kImages; first += kBatch) {
    std::vector<capfilt::db::ImageWithCaptions> batch;
    std::vector<capfilt::db::Score> scores;
    for (int k = first; k < first + kBatch; ++k) {
      capfilt::db::ImageWithCaptions item;
      item.image.path = "images/" + std::to_string(k / 1000) + "/" + std::to_string(k) + ".jpg";
      item.image.split = k % 10 == 0 ? "val" : "train";
      item.captions.push_back({"a photo of thing " + std::to_string(k % 977) + " near " +
                                   std::to_string(k % 101), capfilt::db::CaptionSource::kWeb, 0});
      item.captions.push_back({"a synthetic caption " + std::to_string(k % 613),
                               capfilt::db::CaptionSource::kSynthetic, 0});
      batch.push_back(std::move(item));
      // Caption ids follow insertion: web 2k+1, synthetic 2k+2.
      scores.push_back({2 * k + 1, model_id, ((k * 7919) % 10007) / 10007.0, 0.2});
      scores.push_back({2 * k + 2, model_id, 0.5 + ((k * 104729) % 10007) / 20014.0, 0.3});
    }
    if (!project.value()->insert_pairs(batch) || !project.value()->put_scores(scores)) return false;
  }
  return true;
}

double ms(const QElapsedTimer& t) { return t.nsecsElapsed() / 1e6; }

}  // namespace

int main(int argc, char** argv) {
  g_since_start.start();
  if (qEnvironmentVariableIsEmpty("DISPLAY")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const std::string path = argc > 1 ? argv[1] : "studio-bench.capfilt";
  if (!std::filesystem::exists(path)) {
    QElapsedTimer build;
    build.start();
    std::printf("building %s (1,000,000 captions)…\n", path.c_str());
    if (!build_project(path)) return 1;
    std::printf("built in %.1f s; run again for the figures of a fresh start\n", ms(build) / 1000);
    return 0;
  }

  auto opened = capfilt::ui::ProjectDocument::open(QString::fromStdString(path), "bench");
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.status().message().c_str());
    return 1;
  }
  auto document = std::move(opened.value());
  capfilt::ui::BrowseView view(document.get(), nullptr);
  view.resize(1200, 800);
  capfilt::ui::PairTableModel* model = view.model();
  capfilt::db::PairFilter filter;
  filter.sources = {capfilt::db::CaptionSource::kWeb};
  filter.decisions = {capfilt::db::Decision::kUndecided};
  model->sort(capfilt::ui::PairTableModel::kItm, Qt::AscendingOrder);
  model->setFilter(filter);
  view.show();
  auto painted_row = [&](int row) {
    QElapsedTimer guard;
    guard.start();
    while (guard.elapsed() < 60000) {
      QApplication::processEvents();
      if (model->data(model->index(row, 1), Qt::DisplayRole).toString() != QStringLiteral("…")) {
        view.table()->viewport()->repaint();
        return true;
      }
    }
    return false;
  };
  painted_row(0);
  std::printf("first page painted: %.0f ms after process start (%d matching pairs)\n",
              ms(g_since_start), model->rowCount());

  capfilt::ui::PairPageCache cache(&document->project(), 100, 4);
  cache.setQuery(filter, capfilt::db::PairSort::kItm, false);
  const int64_t total = cache.total();
  const int64_t last_page = (total - 1) / 100;
  for (auto [name, page] : {std::pair<const char*, int64_t>{"start", 0}, {"middle", last_page / 2},
                            {"end", last_page}}) {
    cache.invalidate();
    QElapsedTimer t;
    t.start();
    cache.fetchPage(page);
    std::printf("page at the %s (offset %lld) of web+undecided by ITM: %.1f ms (incl. total)\n",
                name, static_cast<long long>(page * 100), ms(t));
  }

  // The longest the event loop went without turning while the table scrolls to the end.
  QElapsedTimer beat;
  beat.start();
  qint64 last_beat = 0, longest_stall = 0;
  QTimer heartbeat;
  QObject::connect(&heartbeat, &QTimer::timeout, [&] {
    longest_stall = std::max(longest_stall, beat.elapsed() - last_beat);
    last_beat = beat.elapsed();
  });
  heartbeat.start(2);
  QElapsedTimer scroll;
  scroll.start();
  last_beat = beat.elapsed();
  view.table()->scrollToBottom();
  painted_row(model->rowCount() - 1);
  std::printf("scroll to the end and paint: %.0f ms; longest event-loop stall meanwhile: %lld ms\n",
              ms(scroll), static_cast<long long>(longest_stall));

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak resident memory: %.0f MB\n", usage.ru_maxrss / 1024.0);
  return 0;
}
