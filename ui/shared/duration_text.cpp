#include "ui/shared/duration_text.h"

#include <QObject>

namespace capfilt::ui {

QString duration_text(qint64 ms) {
  if (ms <= 0) return {};
  const qint64 s = ms / 1000;
  if (s < 60) return QObject::tr("%1 s").arg(s);
  if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QObject::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

QString eta_text(double seconds) {
  return QObject::tr("ETA %1").arg(duration_text(qint64(seconds * 1000) + 999));
}

}  // namespace capfilt::ui
