#include "ui/demo/demo_worker.h"

#include <QCoreApplication>
#include <QThread>

namespace capfilt::ui {

DemoWorker::DemoWorker(QObject* parent) : QObject(parent) {
  pool_.setMaxThreadCount(1);  // in order, and the model's own threads are not oversubscribed
  pool_.setExpiryTimeout(
      -1);  // one thread for the session's lifetime: LibTorch's thread state stays warm
}

DemoWorker::~DemoWorker() {
  pool_.clear();
  pool_.waitForDone();
}

void DemoWorker::setBusy(int pending) {
  const bool busy = pending > 0;
  if (busy == busy_) return;
  busy_ = busy;
  Q_EMIT busyChanged(busy);
}

void DemoWorker::waitForIdle() {
  while (pending_ > 0) {
    pool_.waitForDone(20);
    QCoreApplication::processEvents();
  }
}

}  // namespace capfilt::ui
