// The JSON-lines progress stream of `capfilt` jobs, which the studio reads from child processes.

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "core/job_progress.h"

namespace capfilt::core {
namespace {

TEST(JobProgress, EveryEventRoundTripsThroughOneLine) {
  ProgressEvent start;
  start.kind = ProgressEventKind::kStart;
  start.time_ms = 1700000000123;
  start.job_kind = "capfilt";
  start.job_id = 7;
  start.total = 1200;
  start.unit = "images";
  start.stage = "capfilt";

  ProgressEvent progress;
  progress.kind = ProgressEventKind::kProgress;
  progress.done = 64;
  progress.total = 1200;
  progress.rate = 11.5;
  progress.eta_s = 98.75;
  progress.step = 64;
  progress.metrics = {{"loss_itc", 3.25}, {"lr", 1e-4}};

  ProgressEvent finished;
  finished.kind = ProgressEventKind::kFinished;
  finished.status = "succeeded";
  finished.text = "done \"quoted\"\nnew line";
  finished.metrics = {{"web_drop_share", 0.21}};

  for (const ProgressEvent& e : {start, progress, finished}) {
    const std::string line = to_json_line(e);
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    auto back = parse_progress_line(line);
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    EXPECT_EQ(back->kind, e.kind);
    EXPECT_EQ(to_json_line(back.value()), line);
  }
  auto p = parse_progress_line(to_json_line(progress)).value();
  EXPECT_EQ(p.done, 64);
  ASSERT_TRUE(p.eta_s.has_value());
  EXPECT_DOUBLE_EQ(*p.eta_s, 98.75);
  EXPECT_DOUBLE_EQ(p.metrics.at("loss_itc"), 3.25);
  EXPECT_EQ(parse_progress_line(to_json_line(finished))->text, finished.text);
}

TEST(JobProgress, ADivergedLossIsNullOnTheWireAndNaNWhenRead) {
  ProgressEvent e;
  e.metrics["loss_lm"] = std::nan("");
  const std::string line = to_json_line(e);
  EXPECT_NE(line.find("null"), std::string::npos) << line;
  EXPECT_TRUE(std::isnan(parse_progress_line(line)->metrics.at("loss_lm")));
}

TEST(JobProgress, ReadersIgnoreFieldsTheyDoNotKnowAndRefuseWhatIsNotAnEvent) {
  auto newer = parse_progress_line(
      R"({"event":"progress","done":3,"total":9,"rate":1.5,"gpu_memory_mb":812,"time_ms":5})");
  ASSERT_TRUE(newer.is_ok());
  EXPECT_EQ(newer->done, 3);
  EXPECT_FALSE(parse_progress_line("step 3/9 loss 2.1").is_ok());
  EXPECT_FALSE(parse_progress_line(R"({"event":"explode"})").is_ok());
  EXPECT_FALSE(parse_progress_line(R"([1,2,3])").is_ok());
  EXPECT_FALSE(parse_progress_line("").is_ok());
}

TEST(JobProgress, RateAndEtaFromTheStartTime) {
  RateMeter meter(100, 1000);
  ProgressEvent e;
  meter.fill(e, 0, 1000);
  EXPECT_EQ(e.rate, 0);
  EXPECT_FALSE(e.eta_s.has_value());
  meter.fill(e, 25, 6000);  // 25 in 5 s
  EXPECT_DOUBLE_EQ(e.rate, 5.0);
  ASSERT_TRUE(e.eta_s.has_value());
  EXPECT_DOUBLE_EQ(*e.eta_s, 15.0);
}

TEST(JobProgress, HumanLinesAndTheWriterFlushEveryLine) {
  ProgressEvent e;
  e.kind = ProgressEventKind::kProgress;
  e.done = 64;
  e.total = 1200;
  e.rate = 11.5;
  e.eta_s = 99;
  EXPECT_EQ(to_human_line(e), "64/1200  11.50/s  ETA 1m39s");
  std::ostringstream json, human;
  ProgressWriter(json, true).write(e);
  ProgressWriter(human, false).write(e);
  EXPECT_EQ(json.str(), to_json_line(e) + "\n");
  EXPECT_EQ(human.str(), to_human_line(e) + "\n");
}

}  // namespace
}  // namespace capfilt::core
