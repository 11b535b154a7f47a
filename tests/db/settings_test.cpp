// Project settings (schema 9): the project's chosen captioner and filter survive reopening, and
// an empty value removes a key.

#include "db/db_test_support.h"

namespace capfilt::db {
namespace {

TEST(SettingsTest, AbsentKeyIsEmpty) {
  test::ScratchDir dir;
  auto project = test::open_or_die(dir.file("p.capfilt"), nullptr);
  auto value = project->setting(kCaptionerSetting);
  ASSERT_TRUE(value.is_ok()) << value.status().message();
  EXPECT_EQ(*value, "");
}

TEST(SettingsTest, SetReplaceRemoveAndReopen) {
  test::ScratchDir dir;
  const std::string path = dir.file("p.capfilt");
  {
    auto project = test::open_or_die(path, nullptr);
    ASSERT_TRUE(project->set_setting(kCaptionerSetting, "3").is_ok());
    ASSERT_TRUE(project->set_setting(kFilterSetting, "4").is_ok());
    ASSERT_TRUE(project->set_setting(kFilterSetting, "5").is_ok());
  }
  auto project = test::open_or_die(path, nullptr);
  EXPECT_EQ(project->setting(kCaptionerSetting).value(), "3");
  EXPECT_EQ(project->setting(kFilterSetting).value(), "5");
  ASSERT_TRUE(project->set_setting(kCaptionerSetting, "").is_ok());
  EXPECT_EQ(project->setting(kCaptionerSetting).value(), "");
  EXPECT_EQ(project->setting(kFilterSetting).value(), "5");
}

}  // namespace
}  // namespace capfilt::db
