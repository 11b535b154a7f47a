#include "model/flop_count.h"

namespace capfilt::model {
namespace {

double gemm(double m, double k, double n) { return 2.0 * m * k * n; }

// Self-attention over n keys for m queries of width d: QKV + output projections, scores, context.
double self_attention(double m, double n, double d) {
  return gemm(m, d, 3 * d) + gemm(m, d, d) + gemm(m, d, n) + gemm(m, n, d);
}

}  // namespace

double vit_flops(const VisionConfig& v) {
  const double n = 1.0 + static_cast<double>(v.num_patches());
  const double d = static_cast<double>(v.hidden);
  const double patch = gemm(static_cast<double>(v.num_patches()),
                            3.0 * static_cast<double>(v.patch_size * v.patch_size), d);
  const double block = self_attention(n, n, d) + 2 * gemm(n, d, static_cast<double>(v.intermediate));
  return patch + static_cast<double>(v.depth) * block;
}

double cross_kv_flops(const BlipConfig& c) {
  const double n = 1.0 + static_cast<double>(c.vision.num_patches());
  return static_cast<double>(c.text.layers) *
         gemm(n, static_cast<double>(c.cross_width()), 2.0 * static_cast<double>(c.text.hidden));
}

namespace {

// One text layer for m new tokens attending to `keys` earlier or equal ones.
double text_layer(const BlipConfig& c, double m, double keys, bool grounded) {
  const double d = static_cast<double>(c.text.hidden);
  const double n_image = 1.0 + static_cast<double>(c.vision.num_patches());
  double f = self_attention(m, keys, d) + 2 * gemm(m, d, static_cast<double>(c.text.intermediate));
  if (grounded) f += gemm(m, d, d) + gemm(m, d, n_image) + gemm(m, n_image, d) + gemm(m, d, d);
  return f;
}

}  // namespace

double text_flops(const BlipConfig& c, int64_t tokens, bool grounded) {
  const double t = static_cast<double>(tokens);
  return static_cast<double>(c.text.layers) * text_layer(c, t, t, grounded);
}

double decode_flops(const BlipConfig& c, int64_t generated) {
  const double d = static_cast<double>(c.text.hidden);
  double f = 0;
  for (int64_t pos = 0; pos < generated; ++pos) {  // input position pos predicts token pos + 1
    f += static_cast<double>(c.text.layers) * text_layer(c, 1, static_cast<double>(pos + 1), true);
    f += gemm(1, d, d) + gemm(1, d, static_cast<double>(c.text.vocab_size));
  }
  return f;
}

double projection_flops(const BlipConfig& c, bool image) {
  const double width = static_cast<double>(image ? c.vision.hidden : c.text.hidden);
  return gemm(1, width, static_cast<double>(c.embed_dim));
}

}  // namespace capfilt::model
