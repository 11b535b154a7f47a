#pragma once
// The studio's persistent settings (QSettings): the curator's name, review preferences, rebindable
// shortcuts, recent projects and where each project's images are. Not a singleton: app/ makes one
// over the QSettings it chooses (tests pass an INI file in a scratch folder) and hands it down.
// GUI thread only.

#include <QKeySequence>
#include <QSettings>
#include <QString>
#include <QStringList>

namespace capfilt::ui {

class StudioSettings {
 public:
  // `settings` is not owned and must outlive this object.
  explicit StudioSettings(QSettings* settings) : settings_(settings) {}

  // Who decides; empty until the first run asked. Every decision of the studio carries it.
  QString curator() const;
  void setCurator(const QString& name);

  bool autoAdvance() const;  // move to the next pair after a decision (default on)
  void setAutoAdvance(bool on);

  // ITM below which a pair without an automatic decision is proposed for dropping (default 0.5).
  double proposalThreshold() const;
  void setProposalThreshold(double threshold);

  // The key bound to an action (review_actions.h names them); `fallback` when never rebound.
  QKeySequence shortcut(const QString& action, const QKeySequence& fallback) const;
  void setShortcut(const QString& action, const QKeySequence& keys);

  QStringList recentProjects() const;  // most recent first, at most 10
  void addRecentProject(const QString& path);

  // Folder that a project's image paths are relative to; empty when not set.
  QString imagesRoot(const QString& project_path) const;
  void setImagesRoot(const QString& project_path, const QString& folder);

  QSettings& raw() { return *settings_; }

 private:
  QSettings* settings_;
};

}  // namespace capfilt::ui
