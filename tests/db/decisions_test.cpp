// The append-only decision log, the current decision derived from it, and honest undo.

#include <sqlite3.h>

#include "db/db_test_support.h"

namespace capfilt::db {
namespace {

using test::FakeClock;
using test::image;
using test::ScratchDir;

class DecisionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = test::open_or_die(dir_.file("p.capfilt"), &clock_);
    ASSERT_TRUE(project_);
    ASSERT_TRUE(project_
                    ->insert_pairs({image("1.jpg", "train",
                                          {{"one", CaptionSource::kWeb, 0},
                                           {"two", CaptionSource::kWeb, 0},
                                           {"three", CaptionSource::kSynthetic, 0}})})
                    .is_ok());
  }

  Decision current(int64_t caption_id) { return project_->pair(caption_id)->decision; }

  Status decide(int64_t caption, Decision d, const std::string& curator,
                DecisionOrigin origin = DecisionOrigin::kCurator) {
    clock_.advance(1000);
    return project_->decide({{caption, d, origin, curator, "because"}});
  }

  ScratchDir dir_;
  FakeClock clock_;
  std::unique_ptr<Project> project_;
};

TEST_F(DecisionsTest, TheLatestDecisionIsCurrent) {
  EXPECT_EQ(current(1), Decision::kUndecided);
  ASSERT_TRUE(decide(1, Decision::kKeep, "ann").is_ok());
  EXPECT_EQ(current(1), Decision::kKeep);
  ASSERT_TRUE(decide(1, Decision::kDrop, "bob").is_ok());
  EXPECT_EQ(current(1), Decision::kDrop);
  EXPECT_EQ(project_->pair(1)->decided_ms, clock_.now_ms());
  auto log = project_->decision_log(1);
  ASSERT_TRUE(log.is_ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].curator, "ann");
  EXPECT_EQ((*log)[0].reason, "because");
  EXPECT_EQ((*log)[1].decision, Decision::kDrop);
  EXPECT_EQ((*log)[1].time_ms - (*log)[0].time_ms, 1000);
  EXPECT_TRUE(project_->check().is_ok());
}

TEST_F(DecisionsTest, ABatchIsAllOrNothing) {
  Status s = project_->decide({{1, Decision::kKeep, DecisionOrigin::kAuto, "f", ""},
                               {404, Decision::kKeep, DecisionOrigin::kAuto, "f", ""}});
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find("404"), std::string::npos);
  EXPECT_EQ(current(1), Decision::kUndecided);
  EXPECT_TRUE(project_->decision_log()->empty());
  EXPECT_EQ(project_->decide({{1, Decision::kUndecided, DecisionOrigin::kAuto, "f", ""}}).code(),
            Status::Code::kInvalid);
}

TEST_F(DecisionsTest, UndoReturnsToThePreviousDecision) {
  ASSERT_TRUE(decide(1, Decision::kKeep, "ann", DecisionOrigin::kAuto).is_ok());
  ASSERT_TRUE(decide(1, Decision::kDrop, "ann").is_ok());
  ASSERT_TRUE(decide(2, Decision::kDrop, "ann").is_ok());
  auto undone = project_->undo("ann", 2);
  ASSERT_TRUE(undone.is_ok());
  EXPECT_EQ(undone.value(), 2);
  EXPECT_EQ(current(1), Decision::kKeep);       // back to the auto decision
  EXPECT_EQ(current(2), Decision::kUndecided);  // back to no decision
  EXPECT_TRUE(project_->check().is_ok());
}

TEST_F(DecisionsTest, APairSaysWhoMadeItsCurrentDecision) {
  EXPECT_EQ(project_->pair(1)->decided_by, "");
  ASSERT_TRUE(decide(1, Decision::kKeep, "filter#2", DecisionOrigin::kAuto).is_ok());
  EXPECT_EQ(project_->pair(1)->decided_by, "auto");
  ASSERT_TRUE(decide(1, Decision::kDrop, "ann").is_ok());
  ASSERT_TRUE(decide(2, Decision::kDrop, "bob").is_ok());
  EXPECT_EQ(project_->pair(1)->decided_by, "ann");
  EXPECT_EQ(project_->pair(2)->decided_by, "bob");
  ASSERT_TRUE(project_->undo("ann", 1).is_ok());
  EXPECT_EQ(project_->pair(1)->decided_by, "auto");  // the undone row no longer speaks
  PageRequest request;
  auto page = project_->page(request);
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->rows.size(), 3u);
  EXPECT_EQ(page->rows[1].decided_by, "bob");  // pages carry it too
  EXPECT_EQ(page->rows[2].decided_by, "");
}

TEST_F(DecisionsTest, UndoTouchesOnlyThatCuratorsDecisions) {
  ASSERT_TRUE(decide(1, Decision::kKeep, "ann").is_ok());
  ASSERT_TRUE(decide(2, Decision::kDrop, "bob").is_ok());
  ASSERT_TRUE(decide(3, Decision::kDrop, "ann", DecisionOrigin::kAuto).is_ok());
  EXPECT_EQ(project_->undo("ann", 5).value(), 1);  // only ann's curator decision
  EXPECT_EQ(current(1), Decision::kUndecided);
  EXPECT_EQ(current(2), Decision::kDrop);
  EXPECT_EQ(current(3), Decision::kDrop);
  EXPECT_EQ(project_->undo("ann").value(), 0);  // nothing left to undo
}

TEST_F(DecisionsTest, RepeatedUndoWalksBackOneDecisionAtATime) {
  ASSERT_TRUE(decide(1, Decision::kKeep, "ann").is_ok());
  ASSERT_TRUE(decide(1, Decision::kDrop, "ann").is_ok());
  ASSERT_TRUE(decide(1, Decision::kKeep, "ann").is_ok());
  ASSERT_EQ(project_->undo("ann").value(), 1);
  EXPECT_EQ(current(1), Decision::kDrop);
  ASSERT_EQ(project_->undo("ann").value(), 1);
  EXPECT_EQ(current(1), Decision::kKeep);
  ASSERT_EQ(project_->undo("ann").value(), 1);
  EXPECT_EQ(current(1), Decision::kUndecided);
}

TEST_F(DecisionsTest, UndoKeepsTheLogAuditable) {
  ASSERT_TRUE(decide(1, Decision::kKeep, "ann").is_ok());
  clock_.advance(500);
  ASSERT_EQ(project_->undo("ann").value(), 1);
  auto log = project_->decision_log();
  ASSERT_TRUE(log.is_ok());
  ASSERT_EQ(log->size(), 1u);  // the decision is still there, marked undone
  EXPECT_EQ((*log)[0].decision, Decision::kKeep);
  EXPECT_EQ((*log)[0].undone_by, "ann");
  EXPECT_EQ((*log)[0].undone_ms, clock_.now_ms());
  // A decision after an undo is new history; the undone one stays undone.
  ASSERT_TRUE(decide(1, Decision::kDrop, "ann").is_ok());
  EXPECT_EQ(project_->decision_log()->size(), 2u);
  EXPECT_EQ(current(1), Decision::kDrop);
}

TEST_F(DecisionsTest, TheLogCannotBeRewritten) {
  ASSERT_TRUE(decide(1, Decision::kKeep, "ann").is_ok());
  project_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("p.capfilt").c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE decisions SET decision = 'drop'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM decisions", nullptr, nullptr, nullptr), SQLITE_OK);
  // Editing the derived column behind the log's back is caught by check().
  EXPECT_EQ(sqlite3_exec(db, "UPDATE captions SET decision = 'drop' WHERE id = 1", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  project_ = test::open_or_die(dir_.file("p.capfilt"), &clock_);
  Status s = project_->check();
  EXPECT_EQ(s.code(), Status::Code::kCorrupt);
  EXPECT_NE(s.message().find("disagrees with the log"), std::string::npos);
}

}  // namespace
}  // namespace capfilt::db
