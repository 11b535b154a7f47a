#include "ui/shared/decide_command.h"

#include "ui/shared/project_document.h"

namespace capfilt::ui {

namespace {
QVector<qint64> caption_ids(const std::vector<db::DecisionInput>& decisions) {
  QVector<qint64> ids;
  ids.reserve(static_cast<int>(decisions.size()));
  for (const auto& d : decisions) ids.push_back(d.caption_id);
  return ids;
}
}  // namespace

DecideCommand::DecideCommand(ProjectDocument* document, std::vector<db::DecisionInput> decisions,
                             const QString& text)
    : QUndoCommand(text),
      document_(document),
      decisions_(std::move(decisions)),
      curator_(document->curator().toStdString()) {
  for (auto& d : decisions_) {
    d.origin = db::DecisionOrigin::kCurator;
    d.curator = curator_;
  }
}

void DecideCommand::redo() {
  auto decisions = decisions_;
  document_->write([decisions](db::Project& p) { return p.decide(decisions); }, text(),
                   caption_ids(decisions_));
}

void DecideCommand::undo() {
  const std::string curator = curator_;
  const int64_t count = static_cast<int64_t>(decisions_.size());
  document_->write(
      [curator, count](db::Project& p) -> Status {
        auto undone = p.undo(curator, count);
        return undone ? Status::ok() : undone.status();
      },
      QObject::tr("Undo %1").arg(text()), caption_ids(decisions_));
}

}  // namespace capfilt::ui
