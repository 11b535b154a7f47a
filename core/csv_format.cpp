// CSV and TSV with a header (RFC 4180 quoting: fields in double quotes may hold the delimiter,
// doubled quotes and line breaks) — the Flickr8k/Kaggle "image,caption" layout among others.
// A malformed record is skipped with its line and column; reading resumes on the next line.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset_readers.h"
#include "core/dataset_readers_internal.h"
#include "core/text_checks.h"

namespace capfilt::core {

namespace fs = std::filesystem;

namespace {

struct CsvRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;  // line the record starts on
};

// Splits text into records, tracking line and column (1-based, in bytes) for error messages.
class CsvScanner {
 public:
  CsvScanner(std::string_view text, char delimiter) : text_(text), delimiter_(delimiter) {}

  enum class Next { kRecord, kError, kEnd };

  // kError: `error` holds "line L, column C: ..." and the scanner has moved past the bad record.
  Next next(CsvRecord& record, std::string& error) {
    record.fields.clear();
    if (pos_ >= text_.size()) return Next::kEnd;
    record.line = line_;
    const std::size_t record_start = pos_;
    const std::size_t record_line = line_;
    std::string field;
    while (true) {
      field.clear();
      if (pos_ < text_.size() && text_[pos_] == '"') {
        const std::size_t open_line = line_, open_column = column_;
        advance();
        bool closed = false;
        while (pos_ < text_.size()) {
          const char c = text_[pos_];
          if (c == '"') {
            if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
              field.push_back('"');
              advance();
              advance();
              continue;
            }
            advance();
            closed = true;
            break;
          }
          field.push_back(c);
          advance();
        }
        if (!closed) {
          error = at(open_line, open_column) + "quoted field is never closed";
          resync_after_line(record_start, record_line);
          return Next::kError;
        }
        if (pos_ < text_.size() && !ends_field(text_[pos_])) {
          error = at(line_, column_) + "unexpected character '" + printable(text_[pos_]) +
                  "' after a closing quote";
          skip_to_next_line();
          return Next::kError;
        }
      } else {
        while (pos_ < text_.size() && !ends_field(text_[pos_])) {
          if (text_[pos_] == '"') {
            error = at(line_, column_) +
                    "quote inside an unquoted field (quote the whole field "
                    "and double the quote)";
            skip_to_next_line();
            return Next::kError;
          }
          field.push_back(text_[pos_]);
          advance();
        }
      }
      record.fields.push_back(field);
      if (pos_ >= text_.size()) return Next::kRecord;
      const char c = text_[pos_];
      advance();
      if (c == delimiter_) continue;
      if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') advance();
      return Next::kRecord;  // '\n' or '\r'
    }
  }

 private:
  bool ends_field(char c) const { return c == delimiter_ || c == '\n' || c == '\r'; }

  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++pos_;
  }

  void skip_to_next_line() {
    while (pos_ < text_.size() && text_[pos_] != '\n') advance();
    if (pos_ < text_.size()) advance();
  }

  // An unclosed quote swallowed the rest of the file; start again on the line after the record's.
  void resync_after_line(std::size_t record_start, std::size_t record_line) {
    pos_ = record_start;
    line_ = record_line;
    column_ = 1;
    skip_to_next_line();
  }

  static std::string at(std::size_t line, std::size_t column) {
    return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
  }

  static std::string printable(char c) {
    if (std::isprint(static_cast<unsigned char>(c))) return std::string(1, c);
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
    return buf;
  }

  std::string_view text_;
  char delimiter_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t column_ = 1;
};

char sniff_delimiter(std::string_view text) {
  const std::string_view first = text.substr(0, text.find('\n'));
  char best = ',';
  std::size_t best_count = 0;
  for (char c : {',', '\t', '|'}) {
    const auto n = static_cast<std::size_t>(std::count(first.begin(), first.end(), c));
    if (n > best_count) {
      best = c;
      best_count = n;
    }
  }
  return best;
}

std::string lowered(std::string s) {
  s = trim_ascii(s);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

int find_column(const std::vector<std::string>& header, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (lowered(header[i]) == name) return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace

Result<DatasetContents> read_csv(const fs::path& file, char delimiter) {
  Result<std::string> bytes = detail::read_file_bytes(file);
  if (!bytes) return bytes.status();
  std::string_view text = bytes.value();
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte-order mark
  const std::string name = file.filename().string();
  if (delimiter == 0) {
    std::string ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    delimiter = ext == ".tsv" ? '\t' : sniff_delimiter(text);
  }

  CsvScanner scanner(text, delimiter);
  CsvRecord header;
  std::string error;
  if (scanner.next(header, error) != CsvScanner::Next::kRecord) {
    return Status::invalid(name + (error.empty() ? ": empty file, no header" : " " + error));
  }
  const int image_col =
      find_column(header.fields, {"image", "image_name", "image_path", "filename", "file_name",
                                  "filepath", "file", "path", "img"});
  const int caption_col =
      find_column(header.fields, {"caption", "text", "comment", "sentence", "raw"});
  const int split_col = find_column(header.fields, {"split"});
  if (image_col < 0 || caption_col < 0) {
    return Status::invalid(name +
                           " line 1: the header needs an image column (image, filename, "
                           "path, ...) and a caption column (caption, text, comment, ...)");
  }

  DatasetContents out;
  CsvRecord record;
  while (true) {
    const CsvScanner::Next next = scanner.next(record, error);
    if (next == CsvScanner::Next::kEnd) break;
    if (next == CsvScanner::Next::kError) {
      const std::string where = name + " " + error.substr(0, error.find(','));
      out.skipped.push_back({where, name + " " + error});
      continue;
    }
    const std::string where = name + " line " + std::to_string(record.line);
    if (record.fields.size() == 1 && trim_ascii(record.fields[0]).empty()) continue;  // blank line
    if (record.fields.size() != header.fields.size()) {
      out.skipped.push_back({where, where + ": " + std::to_string(record.fields.size()) +
                                        " fields where the header has " +
                                        std::to_string(header.fields.size())});
      continue;
    }
    // Flickr30k's results.csv pads fields with spaces after the '|'; paths never end in spaces.
    out.records.push_back(
        {trim_ascii(record.fields[image_col]), trim_ascii(record.fields[caption_col]),
         split_col >= 0 ? trim_ascii(record.fields[split_col]) : std::string(), where});
  }
  return out;
}

}  // namespace capfilt::core
