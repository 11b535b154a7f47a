#pragma once
// Reviewing pairs one by one, by keyboard: the image large, every caption of the image side by
// side (CaptionCard), and actions for next/previous, keep, drop, accept the proposal, use the
// synthetic caption instead of the web one, edit a caption, undo/redo, auto-advance and help.
// Every action is a QAction (a button and a rebindable shortcut); decisions go through the
// document's undo stack, never to the database directly.
//
// The pairs are walked in image-path order, so the captions of one image are neighbours: the
// cards are the pair under review and its neighbours of the same image.

#include <QHash>
#include <QWidget>

#include <vector>

#include "db/records.h"
#include "ui/review/review_actions.h"
#include "ui/shared/pair_page_cache.h"

class QAction;
class QLabel;
class QLineEdit;
class QVBoxLayout;

namespace capfilt::ui {

class CaptionCard;
class HelpOverlay;
class ProjectDocument;
class StudioSettings;
class ThumbnailLoader;

class ReviewView : public QWidget {
  Q_OBJECT

 public:
  // None of the pointers is owned; all must outlive the view.
  ReviewView(ProjectDocument* document, StudioSettings* settings, ThumbnailLoader* images,
             QWidget* parent = nullptr);
  ~ReviewView() override;

  int64_t position() const { return position_; }
  int64_t pairCount();
  // The pair under review; nullptr when the project has none.
  const db::PairRow* currentPair();
  QAction* action(ReviewAction which) const { return actions_.value(static_cast<int>(which)); }
  bool helpVisible() const;
  bool editing() const;
  // Rereads the keys from the settings (after they were rebound).
  void reloadShortcuts();
  // In the main window, undo/redo keys belong to the window's Edit menu (one shortcut for every
  // view; two actions on one key would be ambiguous and neither would fire).
  void setUndoKeysInWindow(bool in_window);

 public Q_SLOTS:
  void setPosition(int64_t position);
  // Moves to the pair with this caption of the image at `image_path` (a binary search over the
  // path-ordered list: a few page fetches). False when it is not in the project.
  bool showCaption(int64_t caption_id, const QString& image_path);
  void trigger(ReviewAction which);
  void reload();

 Q_SIGNALS:
  void positionChanged(int64_t position);
  void message(const QString& text);

 protected:
  void resizeEvent(QResizeEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void buildActions();
  void render();
  std::vector<db::PairRow> siblings();  // captions of the current image, the current one included
  QString whoDecided(int64_t caption_id, db::Decision* auto_decision);
  void decideCurrent(db::Decision decision, const QString& text);
  void acceptProposal();
  void swapToSynthetic();
  void startEdit();
  void commitEdit();
  void advance();

  ProjectDocument* document_;
  StudioSettings* settings_;
  ThumbnailLoader* images_;
  PairPageCache pairs_;
  int64_t position_ = 0;
  bool undo_keys_in_window_ = false;
  QHash<int, QAction*> actions_;
  QLabel* header_;
  QLabel* image_;
  QVBoxLayout* cards_layout_;
  std::vector<CaptionCard*> cards_;
  QLineEdit* editor_;
  QLabel* status_;
  HelpOverlay* help_;
};

}  // namespace capfilt::ui
