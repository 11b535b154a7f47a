#pragma once
// Runs the demo's inference off the GUI thread: each job is a call on the DemoSession, run one at a
// time and in order on a worker thread; its result comes back to `done` on the GUI thread. Jobs
// therefore see the image and encodings the jobs before them left, and the GUI never waits.
//
// GUI thread. The destructor waits for the running job; results for a destroyed worker are dropped.

#include <QObject>
#include <QPointer>
#include <QThreadPool>
#include <functional>
#include <memory>

#include "ui/demo/demo_session.h"

namespace capfilt::ui {

class DemoWorker : public QObject {
  Q_OBJECT

 public:
  explicit DemoWorker(QObject* parent = nullptr);
  ~DemoWorker() override;

  // work(session) on the worker thread, then done(result) on the GUI thread.
  template <typename T>
  void run(std::function<T(DemoSession&)> work, std::function<void(const T&)> done) {
    setBusy(++pending_);
    std::shared_ptr<DemoSession> session = session_;
    QPointer<DemoWorker> self(this);
    pool_.start([session, work, done, self] {
      T result = work(*session);
      QMetaObject::invokeMethod(
          self.data(),
          [self, done, result] {
            if (!self) return;
            done(result);
            self->setBusy(--self->pending_);
          },
          Qt::QueuedConnection);
    });
  }

  bool busy() const { return pending_ > 0; }
  // Runs the event loop until every job's result was delivered (tests).
  void waitForIdle();

 Q_SIGNALS:
  void busyChanged(bool busy);

 private:
  void setBusy(int pending);

  std::shared_ptr<DemoSession> session_ = std::make_shared<DemoSession>();
  QThreadPool pool_;
  int pending_ = 0;
  bool busy_ = false;
};

}  // namespace capfilt::ui
