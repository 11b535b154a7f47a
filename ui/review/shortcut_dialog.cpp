#include "ui/review/shortcut_dialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QKeySequenceEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/review/review_actions.h"
#include "ui/shared/studio_settings.h"

namespace capfilt::ui {

ShortcutDialog::ShortcutDialog(StudioSettings* settings, QWidget* parent)
    : QDialog(parent), settings_(settings) {
  setWindowTitle(tr("Review shortcuts"));
  auto* outer = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  for (const auto& a : review_actions()) {
    auto* edit = new QKeySequenceEdit(settings_->shortcut(a.name, a.default_keys), this);
    edit->setToolTip(tr(a.help));
    form->addRow(tr(a.label), edit);
    edits_.push_back(edit);
  }
  outer->addLayout(form);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel |
                                           QDialogButtonBox::RestoreDefaults, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this, [this] {
    for (size_t k = 0; k < edits_.size(); ++k) edits_[k]->setKeySequence(review_actions()[k].default_keys);
  });
  outer->addWidget(buttons);
}

void ShortcutDialog::accept() {
  for (size_t k = 0; k < edits_.size(); ++k)
    settings_->setShortcut(review_actions()[k].name, edits_[k]->keySequence());
  QDialog::accept();
}

}  // namespace capfilt::ui
