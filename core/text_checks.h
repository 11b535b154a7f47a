#pragma once
// Checks on caption text read from datasets. Captions are stored as UTF-8; bytes that are not
// valid UTF-8 (a Latin-1 file, a cut multi-byte sequence) are refused at import, never stored.

#include <cstddef>
#include <string>
#include <string_view>

namespace capfilt::core {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
// On false, `*bad_offset` (when given) receives the byte offset of the first bad sequence.
bool is_valid_utf8(std::string_view text, std::size_t* bad_offset = nullptr);

// Trims ASCII white space (space, tab, CR, LF) at both ends.
std::string trim_ascii(std::string_view text);

// Line (1-based) and column (1-based, in bytes) of byte `offset` in `text`.
struct TextPosition {
  std::size_t line = 1;
  std::size_t column = 1;
};
TextPosition position_of(std::string_view text, std::size_t offset);

}  // namespace capfilt::core
