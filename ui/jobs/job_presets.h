#pragma once
// The training form's defaults per model preset and task. "tiny" follows the demo models' recipe
// (core/demo_models.cpp: trains on two CPU cores in minutes); "base" and "large" follow BLIP's
// published configs (salesforce/BLIP configs/pretrain.yaml, caption_coco.yaml,
// retrieval_coco.yaml, vqa.yaml: batch size, initial learning rate, image size, epochs).

#include <QString>
#include <QStringList>

namespace capfilt::ui {

struct TrainDefaults {
  qint64 steps = 0;       // 0: train for `epochs`
  qint64 epochs = 0;
  qint64 batch_size = 16;
  double lr = 1e-4;
  qint64 warmup_steps = 0;
  double weight_decay = 0.05;
  qint64 image_size = 0;  // 0: the preset's own
  qint64 log_every = 1;   // progress lines and job_metrics rows every N steps
};

QStringList train_presets();  // "tiny", "base", "large"
// task: "pretrain", "captioner", "filter", "vqa".
TrainDefaults train_defaults(const QString& preset, const QString& task);

}  // namespace capfilt::ui
