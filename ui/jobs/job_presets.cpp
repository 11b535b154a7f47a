#include "ui/jobs/job_presets.h"

namespace capfilt::ui {

QStringList train_presets() { return {QStringLiteral("tiny"), QStringLiteral("base"), QStringLiteral("large")}; }

TrainDefaults train_defaults(const QString& preset, const QString& task) {
  TrainDefaults d;
  const bool pretrain = task == QLatin1String("pretrain");
  if (preset == QLatin1String("tiny")) {
    d.steps = pretrain ? 150 : 300;
    d.batch_size = 16;
    d.lr = 1e-3;
    d.warmup_steps = pretrain ? 20 : 10;
    d.log_every = 1;
    return d;
  }
  const bool large = preset == QLatin1String("large");
  d.log_every = 10;
  if (pretrain) {
    d.epochs = 20;
    d.batch_size = large ? 50 : 75;
    d.lr = large ? 2e-4 : 3e-4;
    d.warmup_steps = 3000;
    d.image_size = 224;
  } else if (task == QLatin1String("captioner")) {
    d.epochs = 5;
    d.batch_size = large ? 16 : 32;
    d.lr = large ? 2e-6 : 1e-5;
    d.image_size = 384;
  } else if (task == QLatin1String("filter")) {
    d.epochs = 6;
    d.batch_size = large ? 16 : 32;
    d.lr = large ? 5e-6 : 1e-5;
    d.image_size = 384;
  } else {  // vqa
    d.epochs = 10;
    d.batch_size = 16;
    d.lr = 2e-5;
    d.image_size = 480;
  }
  return d;
}

}  // namespace capfilt::ui
