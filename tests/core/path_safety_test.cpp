// Paths from datasets stay inside the dataset root: lexically and through symlinks.

#include "core/path_safety.h"

#include <gtest/gtest.h>

#include "import_test_support.h"

namespace capfilt::core {
namespace {

using namespace capfilt::core::test;

TEST(NormalizeRelativePath, CleansHarmlessForms) {
  EXPECT_EQ(normalize_relative_path("a/./b.jpg").value(), "a/b.jpg");
  EXPECT_EQ(normalize_relative_path("a/x/../b.jpg").value(), "a/b.jpg");
  EXPECT_EQ(normalize_relative_path("a\\b.jpg").value(), "a/b.jpg");
  EXPECT_EQ(normalize_relative_path("a//b.jpg").value(), "a/b.jpg");
}

TEST(NormalizeRelativePath, RefusesEscapes) {
  for (const char* bad :
       {"../a.jpg", "a/../../a.jpg", "..", "/etc/passwd", "\\\\server\\share\\a.jpg",
        "C:\\Windows\\a.jpg", "c:a.jpg", "", ".", "a/"}) {
    Result<std::string> r = normalize_relative_path(bad);
    EXPECT_FALSE(r.is_ok()) << bad << " -> " << (r.is_ok() ? r.value() : "");
    if (!r.is_ok()) EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  }
  EXPECT_NE(normalize_relative_path("../a.jpg").status().message().find("escapes the dataset root"),
            std::string::npos);
  EXPECT_NE(normalize_relative_path("/etc/passwd").status().message().find("absolute path"),
            std::string::npos);
}

TEST(ResolveInsideRoot, FollowsSymlinksAndRefusesThoseLeadingOut) {
  ScratchDir dir;
  const fs::path root = dir / "root";
  write_file(root / "in.jpg", "x");
  write_file(dir / "secret.jpg", "y");
  fs::create_symlink(dir / "secret.jpg", root / "link_out.jpg");
  fs::create_symlink(root / "in.jpg", root / "link_in.jpg");
  fs::create_directory_symlink(dir.path(), root / "dir_out");

  EXPECT_EQ(resolve_inside_root(root, "in.jpg").value(), fs::canonical(root / "in.jpg"));
  EXPECT_EQ(resolve_inside_root(root, "link_in.jpg").value(), fs::canonical(root / "in.jpg"));
  EXPECT_TRUE(resolve_inside_root(root, "missing/yet.jpg").is_ok());  // reported by the opener

  Result<fs::path> out = resolve_inside_root(root, "link_out.jpg");
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("through a symlink"), std::string::npos);
  EXPECT_FALSE(resolve_inside_root(root, "dir_out/secret.jpg").is_ok());
  EXPECT_FALSE(resolve_inside_root(root, "../secret.jpg").is_ok());
}

TEST(ResolveInsideRoot, RootThatIsItselfASymlinkIsFine) {
  ScratchDir dir;
  write_file(dir / "real/a.jpg", "x");
  fs::create_directory_symlink(dir / "real", dir / "alias");
  EXPECT_TRUE(resolve_inside_root(dir / "alias", "a.jpg").is_ok());
}

}  // namespace
}  // namespace capfilt::core
