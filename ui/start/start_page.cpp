#include "ui/start/start_page.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/shared/studio_settings.h"

namespace capfilt::ui {

StartPage::StartPage(StudioSettings* settings, QWidget* parent)
    : QWidget(parent), settings_(settings) {
  auto* outer = new QHBoxLayout(this);
  outer->addStretch(1);
  auto* column = new QVBoxLayout;
  column->addStretch(1);
  auto* title = new QLabel(tr("<h1>CapFilt Studio</h1><p>Curate image-text datasets with BLIP: "
                              "a captioner writes a synthetic caption for every web image, a "
                              "filter scores both, and you keep or drop them by keyboard.</p>"),
                           this);
  title->setWordWrap(true);
  column->addWidget(title);

  demo_ = new QPushButton(tr("Open the demo project"), this);
  demo_->setMinimumHeight(44);
  QFont big = demo_->font();
  big.setPointSizeF(big.pointSizeF() * 1.2);
  big.setBold(true);
  demo_->setFont(big);
  column->addWidget(demo_);
  progress_ = new QProgressBar(this);
  progress_->hide();
  column->addWidget(progress_);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  column->addWidget(message_);

  auto* buttons = new QHBoxLayout;
  auto* create = new QPushButton(tr("New project…"), this);
  auto* open = new QPushButton(tr("Open project…"), this);
  buttons->addWidget(create);
  buttons->addWidget(open);
  column->addLayout(buttons);
  column->addWidget(new QLabel(tr("<b>Recent projects</b>"), this));
  recent_ = new QListWidget(this);
  recent_->setMaximumHeight(180);
  column->addWidget(recent_);
  column->addStretch(2);
  auto* holder = new QWidget(this);
  holder->setLayout(column);
  holder->setMaximumWidth(640);
  holder->setMinimumWidth(420);
  outer->addWidget(holder, 3);
  outer->addStretch(1);

  connect(demo_, &QPushButton::clicked, this, &StartPage::demoRequested);
  connect(create, &QPushButton::clicked, this, &StartPage::newProjectRequested);
  connect(open, &QPushButton::clicked, this, &StartPage::openProjectRequested);
  connect(recent_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    Q_EMIT openRecentRequested(item->data(Qt::UserRole).toString());
  });
  refreshRecent();
}

void StartPage::refreshRecent() {
  recent_->clear();
  for (const QString& path : settings_->recentProjects()) {
    auto* item = new QListWidgetItem(QStringLiteral("%1 — %2").arg(QFileInfo(path).fileName(), path));
    item->setData(Qt::UserRole, path);
    if (!QFileInfo::exists(path)) item->setForeground(Qt::gray);
    recent_->addItem(item);
  }
  if (recent_->count() == 0) recent_->addItem(tr("(none yet)"));
}

void StartPage::showDemoProgress(qint64 done, qint64 total, const QString& text) {
  progress_->show();
  demo_->setEnabled(false);
  if (done >= 0 && total > 0) {
    progress_->setRange(0, 1000);
    progress_->setValue(static_cast<int>(1000 * done / total));
  } else if (done >= 0) {
    progress_->setRange(0, 0);  // busy, no total yet
  }
  message_->setStyleSheet(QString());
  message_->setText(text);
}

void StartPage::showDemoFailure(const QString& message) {
  progress_->hide();
  demo_->setEnabled(true);
  message_->setStyleSheet("color: #a01010;");
  message_->setText(message);
}

void StartPage::demoFinished() {
  progress_->hide();
  demo_->setEnabled(true);
  message_->clear();
}

QString StartPage::messageText() const { return message_->text(); }

}  // namespace capfilt::ui
