#include "ui/demo/heat_map.h"

#include <QColor>
#include <algorithm>

namespace capfilt::ui {
namespace {

// t in [0, 1] -> blue, cyan, yellow, red.
QColor ramp(double t) {
  static const QColor stops[] = {QColor(30, 60, 220), QColor(30, 200, 230), QColor(250, 230, 40),
                                 QColor(230, 30, 30)};
  const double x = std::clamp(t, 0.0, 1.0) * 3.0;
  const int i = std::min(2, static_cast<int>(x));
  const double f = x - i;
  const QColor& a = stops[i];
  const QColor& b = stops[i + 1];
  return QColor(static_cast<int>(a.red() + f * (b.red() - a.red())),
                static_cast<int>(a.green() + f * (b.green() - a.green())),
                static_cast<int>(a.blue() + f * (b.blue() - a.blue())));
}

}  // namespace

int heat_map_peak(const std::vector<float>& heat) {
  if (heat.empty()) return -1;
  const auto top = std::max_element(heat.begin(), heat.end());
  return *top > 0 ? static_cast<int>(top - heat.begin()) : -1;
}

QImage heat_map_image(const std::vector<float>& heat, int rows, int cols) {
  if (rows <= 0 || cols <= 0 || heat.size() != static_cast<size_t>(rows) * cols) return {};
  QImage image(cols, rows, QImage::Format_ARGB32);
  const float top = *std::max_element(heat.begin(), heat.end());
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const double t = top > 0 ? heat[static_cast<size_t>(r * cols + c)] / top : 0.0;
      QColor colour = ramp(t);
      colour.setAlphaF(0.15 + 0.6 * t);
      image.setPixelColor(c, r, colour);
    }
  }
  return image;
}

}  // namespace capfilt::ui
