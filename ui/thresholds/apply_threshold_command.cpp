#include "ui/thresholds/apply_threshold_command.h"

#include <QObject>

#include "ui/shared/project_document.h"
#include "ui/thresholds/apply_threshold.h"

namespace capfilt::ui {

ApplyThresholdCommand::ApplyThresholdCommand(ProjectDocument* document, double threshold)
    : QUndoCommand(QObject::tr("Apply ITM threshold %1").arg(threshold, 0, 'f', 3)),
      document_(document),
      threshold_(threshold),
      rule_("studio threshold itm<" + QString::number(threshold, 'f', 3).toStdString()) {}

void ApplyThresholdCommand::redo() {
  const double t = threshold_;
  const std::string rule = rule_;
  auto after = logged_after_;
  document_->write(
      [t, rule, after](db::Project& p) -> Status {
        auto last = p.last_decision_id();
        if (!last) return last.status();
        *after = last.value();
        auto applied = apply_threshold(p, t, rule);
        return applied ? Status::ok() : applied.status();
      },
      text());
}

void ApplyThresholdCommand::undo() {
  const std::string rule = rule_;
  const std::string curator = document_->curator().toStdString();
  auto after = logged_after_;
  document_->write(
      [rule, curator, after](db::Project& p) -> Status {
        auto undone = p.undo_automatic(rule, *after, curator);
        return undone ? Status::ok() : undone.status();
      },
      QObject::tr("Undo %1").arg(text()));
}

}  // namespace capfilt::ui
