#include "ui/shared/thumbnail_loader.h"

#include <QFontMetrics>
#include <QImage>
#include <QPainter>
#include <QPixmapCache>
#include <QPointer>

#include <algorithm>

#include "core/thumbnails.h"

namespace capfilt::ui {

ThumbnailLoader::ThumbnailLoader(core::ThumbnailCache* cache, int max_side,
                                 std::function<QString(const QString&)> resolve, QObject* parent)
    : QObject(parent), cache_(cache), max_side_(max_side), resolve_(std::move(resolve)) {
  pool_.setMaxThreadCount(2);
}

ThumbnailLoader::~ThumbnailLoader() {
  pool_.clear();
  pool_.waitForDone();
}

QString ThumbnailLoader::key(const QString& image_path) const {
  return QStringLiteral("capfilt-thumb:%1:%2").arg(max_side_).arg(image_path);
}

QPixmap ThumbnailLoader::pixmap(const QString& image_path) {
  QPixmap found;
  if (QPixmapCache::find(key(image_path), &found)) return found;
  if (errors_.contains(image_path)) {
    QPixmap missing = placeholder(errors_.value(image_path));
    QPixmapCache::insert(key(image_path), missing);
    return missing;
  }
  if (!pending_.contains(image_path)) {
    pending_.insert(image_path);
    const QString file = resolve_ ? resolve_(image_path) : image_path;
    core::ThumbnailCache* cache = cache_;
    const int side = max_side_;
    QPointer<ThumbnailLoader> self(this);
    pool_.start([cache, side, file, image_path, self] {
      auto made = cache->thumbnail(file.toStdString(), side);
      QImage image;
      QString error;
      if (made) {
        const core::RgbImage& rgb = *made;
        image = QImage(rgb.pixels.data(), rgb.width, rgb.height, rgb.width * 3,
                       QImage::Format_RGB888)
                    .copy();
      } else {
        error = QString::fromStdString(made.status().message());
      }
      // The destructor waits for this task, so `self` is alive here; the queued call is dropped
      // if the loader is gone by the time the event loop runs it.
      QMetaObject::invokeMethod(
          self.data(), [self, image_path, image, error] {
            if (self) self->deliver(image_path, image, error);
          },
          Qt::QueuedConnection);
    });
  }
  return placeholder(QString());
}

void ThumbnailLoader::deliver(const QString& image_path, const QImage& image, const QString& error) {
  pending_.remove(image_path);
  if (image.isNull()) {
    errors_.insert(image_path, error.isEmpty() ? tr("%1: no image").arg(image_path) : error);
    QPixmapCache::insert(key(image_path), placeholder(errors_.value(image_path)));
  } else {
    QPixmapCache::insert(key(image_path), QPixmap::fromImage(image));
  }
  Q_EMIT ready(image_path);
}

// A grey square; with `text` (why there is no image), the text written into it.
QPixmap ThumbnailLoader::placeholder(const QString& text) const {
  const int side = std::max(48, max_side_);
  QPixmap pm(side, side);
  pm.fill(QColor(0xe4, 0xe4, 0xe4));
  if (!text.isEmpty()) {
    QPainter painter(&pm);
    painter.setPen(QColor(0x80, 0x20, 0x20));
    QFont font = painter.font();
    font.setPixelSize(std::max(9, side / 12));
    painter.setFont(font);
    painter.drawText(pm.rect().adjusted(4, 4, -4, -4), Qt::AlignCenter | Qt::TextWrapAnywhere,
                     tr("missing image\n%1").arg(text));
  }
  return pm;
}

}  // namespace capfilt::ui
