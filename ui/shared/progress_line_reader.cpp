#include "ui/shared/progress_line_reader.h"

namespace capfilt::ui {

std::optional<ProgressLine> ProgressLineReader::parse(const QByteArray& raw) {
  const QByteArray line = raw.trimmed();
  if (line.isEmpty()) return std::nullopt;
  ProgressLine out;
  auto event = core::parse_progress_line(line.toStdString());
  if (event) {
    out.event = *event;
    out.text = QString::fromStdString(core::to_human_line(*event)).trimmed();
    if (out.text.isEmpty()) out.text = QString::fromUtf8(line);
  } else {
    out.text = QString::fromUtf8(line);
  }
  return out;
}

std::vector<ProgressLine> ProgressLineReader::feed(const QByteArray& bytes) {
  buffer_ += bytes;
  std::vector<ProgressLine> lines;
  qsizetype newline;
  while ((newline = buffer_.indexOf('\n')) >= 0) {
    if (auto line = parse(buffer_.left(newline))) lines.push_back(std::move(*line));
    buffer_.remove(0, newline + 1);
  }
  return lines;
}

std::vector<ProgressLine> ProgressLineReader::flush() {
  std::vector<ProgressLine> lines;
  if (auto line = parse(buffer_)) lines.push_back(std::move(*line));
  buffer_.clear();
  return lines;
}

}  // namespace capfilt::ui
