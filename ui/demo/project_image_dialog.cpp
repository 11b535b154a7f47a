#include "ui/demo/project_image_dialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/shared/project_document.h"

namespace capfilt::ui {
namespace {
constexpr int kPathRole = Qt::UserRole;
constexpr int kCaptionRole = Qt::UserRole + 1;
constexpr int kRows = 300;
}  // namespace

ProjectImageDialog::ProjectImageDialog(ProjectDocument* document, QWidget* parent)
    : QDialog(parent), document_(document) {
  setWindowTitle(tr("An image of the project"));
  query_ = new QLineEdit(this);
  query_->setPlaceholderText(tr("Search the captions (e.g. red circle); empty: the first images"));
  list_ = new QListWidget(this);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(query_);
  layout->addWidget(list_, 1);
  layout->addWidget(buttons);
  connect(query_, &QLineEdit::returnPressed, this, [this] { search(query_->text()); });
  connect(list_, &QListWidget::itemDoubleClicked, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  resize(640, 480);
  search({});
}

void ProjectImageDialog::search(const QString& query) {
  list_->clear();
  db::PageRequest request;
  request.sort = db::PairSort::kPath;
  request.limit = kRows;
  request.with_total = false;
  request.filter.text_query = query.trimmed().toStdString();
  auto page = document_->project().page(request);
  if (!page) {
    list_->addItem(QString::fromStdString(page.status().message()));
    return;
  }
  QString last;
  for (const auto& row : page->rows) {
    const QString path = QString::fromStdString(row.image.path);
    if (path == last) continue;  // one row per image
    last = path;
    const QString caption = QString::fromStdString(row.caption.text);
    auto* item = new QListWidgetItem(QStringLiteral("%1 — %2").arg(path, caption), list_);
    item->setData(kPathRole, path);
    item->setData(kCaptionRole, caption);
  }
  if (list_->count() > 0) list_->setCurrentRow(0);
}

int ProjectImageDialog::rowCount() const {
  return list_->count();
}
void ProjectImageDialog::selectRow(int row) {
  list_->setCurrentRow(row);
}

QString ProjectImageDialog::imagePath() const {
  const QListWidgetItem* item = list_->currentItem();
  if (!item || item->data(kPathRole).toString().isEmpty()) return {};
  return document_->absoluteImagePath(item->data(kPathRole).toString());
}

QString ProjectImageDialog::caption() const {
  const QListWidgetItem* item = list_->currentItem();
  return item ? item->data(kCaptionRole).toString() : QString();
}

}  // namespace capfilt::ui
