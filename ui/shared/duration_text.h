#pragma once
// How the studio writes a duration and a time left, so the jobs panel and the start page say
// "2 min 45 s" alike.

#include <QString>
#include <QtGlobal>

namespace capfilt::ui {

// "45 s", "2 min 45 s", "1 h 5 min"; empty for a duration of zero or less.
QString duration_text(qint64 ms);
// "ETA 2 min 45 s" for `seconds` left, rounded up so the last second does not read "0 s".
QString eta_text(double seconds);

}  // namespace capfilt::ui
