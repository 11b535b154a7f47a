#pragma once
// A Grad-CAM map (rows × cols values >= 0, row-major) as a translucent colour image to lay over
// the picture: normalised by its maximum, coloured blue → cyan → yellow → red, with alpha rising
// with the value so the low parts leave the image visible. One pixel per grid cell; the canvas
// scales it smoothly to the image's size (the grid covers the whole image, as the model saw it).

#include <QImage>
#include <vector>

namespace capfilt::ui {

QImage heat_map_image(const std::vector<float>& heat, int rows, int cols);

// The cell (row * cols + col) holding the maximum; -1 for an empty or all-zero map.
int heat_map_peak(const std::vector<float>& heat);

}  // namespace capfilt::ui
