#pragma once
// The demo's picture: an image scaled to fit (aspect kept), an optional heat map laid over it
// (stretched over the whole image: the model's grid covers the image resized to a square), and a
// hint to drop an image when there is none. Accepts dropped image files (fileDropped).

#include <QImage>
#include <QString>
#include <QWidget>

namespace capfilt::ui {

class ImageCanvas : public QWidget {
  Q_OBJECT

 public:
  explicit ImageCanvas(QWidget* parent = nullptr);

  void setImage(const QImage& image);
  const QImage& image() const { return image_; }
  void setOverlay(const QImage& overlay);  // null: none
  const QImage& overlay() const { return overlay_; }
  void setOverlayOpacity(double opacity);  // 0..1
  void setHint(const QString& text);

  QSize sizeHint() const override { return {420, 420}; }

 Q_SIGNALS:
  void fileDropped(const QString& path);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  QRect imageRect() const;

  QImage image_;
  QImage overlay_;
  double opacity_ = 0.8;
  QString hint_;
};

}  // namespace capfilt::ui
