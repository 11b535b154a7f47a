#include "ui/review/help_overlay.h"

#include <QPainter>
#include <QTextDocument>

#include "ui/review/review_actions.h"
#include "ui/shared/studio_settings.h"

namespace capfilt::ui {

HelpOverlay::HelpOverlay(const StudioSettings* settings, QWidget* parent)
    : QWidget(parent), settings_(settings) {
  setAttribute(Qt::WA_NoSystemBackground);
  hide();
}

void HelpOverlay::refresh() {
  QString rows;
  for (const auto& a : review_actions()) {
    const QKeySequence keys = settings_->shortcut(a.name, a.default_keys);
    rows += QStringLiteral("<tr><td align='right'><b><tt>%1</tt></b>&nbsp;&nbsp;</td><td>%2</td></tr>")
                .arg(keys.toString(QKeySequence::NativeText).toHtmlEscaped(),
                     tr(a.help).toHtmlEscaped());
  }
  text_ = QStringLiteral("<h2>Review shortcuts</h2><table cellspacing='4'>%1</table>"
                         "<p>Keys are rebound under Edit → Review shortcuts. Press ? or click to close.</p>")
              .arg(rows);
  if (parentWidget()) setGeometry(parentWidget()->rect());
  update();
}

void HelpOverlay::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), QColor(20, 20, 30, 225));
  QTextDocument doc;
  doc.setDefaultStyleSheet("body, td, h2, p { color: white; }");
  doc.setHtml(QStringLiteral("<body>%1</body>").arg(text_));
  doc.setTextWidth(std::min(560, width() - 40));
  const QSizeF size = doc.size();
  painter.translate((width() - size.width()) / 2, std::max(20.0, (height() - size.height()) / 2));
  doc.drawContents(&painter);
}

void HelpOverlay::mousePressEvent(QMouseEvent*) { hide(); }

}  // namespace capfilt::ui
