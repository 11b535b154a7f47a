#include "model/flop_count.h"

#include <gtest/gtest.h>

namespace capfilt::model {
namespace {

BlipConfig base384() {
  BlipConfig c;  // the defaults are BLIP base
  c.vision.image_size = 384;
  return c;
}

TEST(FlopCount, ViTBaseAt384IsWhatTheLayersAddUpTo) {
  // 577 tokens of width 768: per block QKV 2*577*768*2304, output 2*577*768*768, scores and
  // context 2 * 2*577*577*768, MLP 2 * 2*577*768*3072; patch embedding 2*576*768*768.
  const double block = 2.0 * 577 * 768 * 2304 + 2.0 * 577 * 768 * 768 + 2 * 2.0 * 577 * 577 * 768 +
                       2 * 2.0 * 577 * 768 * 3072;
  EXPECT_DOUBLE_EQ(vit_flops(base384().vision), 2.0 * 576 * 768 * 768 + 12 * block);
  EXPECT_NEAR(vit_flops(base384().vision) / 1e9, 110.97, 0.01);
}

TEST(FlopCount, CrossKeysAndValuesAreOneProjectionPerLayer) {
  EXPECT_DOUBLE_EQ(cross_kv_flops(base384()), 12 * 2.0 * 577 * 768 * 1536);
}

TEST(FlopCount, AGroundedTextPassAddsCrossAttentionToTheUnimodalOne) {
  const BlipConfig c = base384();
  const double t = 20;
  const double unimodal = 12 * (2 * t * 768 * 2304 + 2 * t * 768 * 768 + 2 * 2 * t * t * 768 +
                                2 * 2 * t * 768 * 3072);
  EXPECT_DOUBLE_EQ(text_flops(c, 20, false), unimodal);
  const double cross = 12 * (2 * 2 * t * 768 * 768 + 2 * 2 * t * 577 * 768);
  EXPECT_DOUBLE_EQ(text_flops(c, 20, true), unimodal + cross);
}

TEST(FlopCount, DecodingOneTokenIsOneGroundedPositionAndTheLMHead) {
  const BlipConfig c = base384();
  const double lm = 2.0 * 768 * 768 + 2.0 * 768 * 30524;
  EXPECT_DOUBLE_EQ(decode_flops(c, 1), text_flops(c, 1, true) + lm);
  // Later positions attend to more cached keys: decoding is more than n single positions.
  EXPECT_GT(decode_flops(c, 20), 20 * (text_flops(c, 1, true) + lm));
  EXPECT_LT(decode_flops(c, 20), 20 * (text_flops(c, 20, true) / 20 + lm) + 1);
}

}  // namespace
}  // namespace capfilt::model
