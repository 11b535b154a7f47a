#pragma once
// Thumbnails for the views, made off the GUI thread. pixmap() answers at once from QPixmapCache,
// or with a neutral placeholder while core::ThumbnailCache decodes the image on this loader's
// QThreadPool; the result comes back by queued call and `ready` names the image. A missing or
// broken image becomes a placeholder naming its path and the reason (cached too, so a broken
// image costs one attempt, not one error box per repaint).
//
// GUI thread; the pool's threads only call the thread-safe ThumbnailCache. `cache` is not owned
// and must outlive the loader; the destructor waits for running decodes.

#include <QHash>
#include <QObject>
#include <QPixmap>
#include <QSet>
#include <QString>
#include <QThreadPool>

#include <functional>

namespace capfilt::core {
class ThumbnailCache;
}

namespace capfilt::ui {

class ThumbnailLoader : public QObject {
  Q_OBJECT

 public:
  // `resolve` turns a stored (relative) image path into a file path.
  ThumbnailLoader(core::ThumbnailCache* cache, int max_side,
                  std::function<QString(const QString&)> resolve, QObject* parent = nullptr);
  ~ThumbnailLoader() override;

  int maxSide() const { return max_side_; }
  // The thumbnail of `image_path` (as stored in the project); a placeholder while it is made.
  QPixmap pixmap(const QString& image_path);
  // Why the image has no thumbnail (empty when it has one or is still being made).
  QString error(const QString& image_path) const { return errors_.value(image_path); }
  bool isPending(const QString& image_path) const { return pending_.contains(image_path); }
  void waitForDone() { pool_.waitForDone(); }

 Q_SIGNALS:
  void ready(const QString& image_path);

 private:
  void deliver(const QString& image_path, const QImage& image, const QString& error);
  QString key(const QString& image_path) const;
  QPixmap placeholder(const QString& text) const;

  core::ThumbnailCache* cache_;
  const int max_side_;
  std::function<QString(const QString&)> resolve_;
  QThreadPool pool_;
  QSet<QString> pending_;
  QHash<QString, QString> errors_;
};

}  // namespace capfilt::ui
