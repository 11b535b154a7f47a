#pragma once
// Internal to db/: the project schema as an ordered list of migrations. Migration i (0-based)
// takes a file from user_version i to i + 1. Append new migrations; never edit a released one.

#include <string>
#include <vector>

#include "db/sqlite.h"

namespace capfilt::db::internal {

const std::vector<std::string>& migrations();

// Brings the file to `target` (<= migrations().size()), one transaction per migration. Refuses,
// without writing, a file whose version is newer than migrations().size().
Status migrate(Connection& connection, int target);

// The refusal of a file whose schema `version` is newer than this build's.
Status newer_schema(const std::string& path, int version);

// PRAGMA user_version of the open file.
Result<int> read_schema_version(Connection& connection);

}  // namespace capfilt::db::internal
