#include "ui/demo/image_canvas.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QPainter>

namespace capfilt::ui {

ImageCanvas::ImageCanvas(QWidget* parent) : QWidget(parent) {
  setAcceptDrops(true);
  setMinimumSize(200, 200);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  hint_ = tr("Drop an image here, or open one");
}

void ImageCanvas::setImage(const QImage& image) {
  image_ = image;
  overlay_ = {};
  update();
}

void ImageCanvas::setOverlay(const QImage& overlay) {
  overlay_ = overlay;
  update();
}

void ImageCanvas::setOverlayOpacity(double opacity) {
  opacity_ = opacity;
  update();
}

void ImageCanvas::setHint(const QString& text) {
  hint_ = text;
  update();
}

QRect ImageCanvas::imageRect() const {
  if (image_.isNull()) return {};
  const QSize size = image_.size().scaled(rect().size() - QSize(8, 8), Qt::KeepAspectRatio);
  return QRect(QPoint((width() - size.width()) / 2, (height() - size.height()) / 2), size);
}

void ImageCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().color(QPalette::Base));
  if (image_.isNull()) {
    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawRect(rect().adjusted(4, 4, -5, -5));
    painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, hint_);
    return;
  }
  const QRect target = imageRect();
  painter.setRenderHint(QPainter::SmoothPixmapTransform);
  painter.drawImage(target, image_);
  if (!overlay_.isNull()) {
    painter.setOpacity(opacity_);
    // Smooth scaling of the coarse grid is the bilinear upsampling the LAVIS demo shows.
    painter.drawImage(
        target, overlay_.scaled(target.size(), Qt::IgnoreAspectRatio, Qt::SmoothTransformation));
  }
}

void ImageCanvas::dragEnterEvent(QDragEnterEvent* event) {
  const QMimeData* data = event->mimeData();
  if (data->hasUrls() && !data->urls().isEmpty() && data->urls().first().isLocalFile()) {
    event->acceptProposedAction();
  }
}

void ImageCanvas::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.first().isLocalFile()) return;
  event->acceptProposedAction();
  Q_EMIT fileDropped(urls.first().toLocalFile());
}

}  // namespace capfilt::ui
