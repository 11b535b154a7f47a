#include "ui/shared/studio_settings.h"

#include <QCryptographicHash>

namespace capfilt::ui {

namespace {
QString project_key(const QString& project_path) {
  // Paths hold '/' which QSettings reads as groups; a hash keeps one key per project.
  return QString::fromLatin1(
      QCryptographicHash::hash(project_path.toUtf8(), QCryptographicHash::Sha1).toHex().left(16));
}
}  // namespace

QString StudioSettings::curator() const { return settings_->value("curator").toString(); }
void StudioSettings::setCurator(const QString& name) { settings_->setValue("curator", name); }

bool StudioSettings::autoAdvance() const { return settings_->value("review/auto_advance", true).toBool(); }
void StudioSettings::setAutoAdvance(bool on) { settings_->setValue("review/auto_advance", on); }

double StudioSettings::proposalThreshold() const {
  return settings_->value("review/proposal_threshold", 0.5).toDouble();
}
void StudioSettings::setProposalThreshold(double threshold) {
  settings_->setValue("review/proposal_threshold", threshold);
}

QKeySequence StudioSettings::shortcut(const QString& action, const QKeySequence& fallback) const {
  const QVariant v = settings_->value("shortcuts/" + action);
  if (!v.isValid()) return fallback;
  return QKeySequence::fromString(v.toString(), QKeySequence::PortableText);
}

void StudioSettings::setShortcut(const QString& action, const QKeySequence& keys) {
  settings_->setValue("shortcuts/" + action, keys.toString(QKeySequence::PortableText));
}

QStringList StudioSettings::recentProjects() const {
  return settings_->value("recent_projects").toStringList();
}

void StudioSettings::addRecentProject(const QString& path) {
  QStringList list = recentProjects();
  list.removeAll(path);
  list.prepend(path);
  while (list.size() > 10) list.removeLast();
  settings_->setValue("recent_projects", list);
}

QString StudioSettings::imagesRoot(const QString& project_path) const {
  return settings_->value("images_root/" + project_key(project_path)).toString();
}

void StudioSettings::setImagesRoot(const QString& project_path, const QString& folder) {
  settings_->setValue("images_root/" + project_key(project_path), folder);
}

}  // namespace capfilt::ui
