#include "ui/shared/edit_caption_command.h"

#include <QObject>

#include "ui/shared/project_document.h"

namespace capfilt::ui {

Result<int64_t> find_caption(db::Project& project, int64_t image_id, const std::string& text,
                             db::CaptionSource source) {
  // An FTS5 phrase: the text in double quotes, its own quotes doubled.
  std::string phrase = "\"";
  for (char c : text) {
    phrase += c;
    if (c == '"') phrase += '"';
  }
  phrase += '"';
  db::PageRequest request;
  request.filter.sources = {source};
  request.filter.text_query = phrase;
  request.sort = db::PairSort::kCaptionId;
  request.descending = true;
  request.limit = 500;
  auto page = project.page(request);
  if (!page) return page.status();
  for (const auto& row : page->rows) {
    if (row.image_id == image_id && row.caption.text == text) return row.caption_id;
  }
  return Status::not_found("no " + std::string(db::to_string(source)) + " caption \"" + text +
                           "\" of image " + std::to_string(image_id));
}

EditCaptionCommand::EditCaptionCommand(ProjectDocument* document, const db::PairRow& edited,
                                       std::string new_text)
    : QUndoCommand(QObject::tr("Edit caption of %1").arg(QString::fromStdString(edited.image.path))),
      document_(document),
      edited_(edited),
      new_text_(std::move(new_text)),
      curator_(document->curator().toStdString()) {}

void EditCaptionCommand::redo() {
  const db::PairRow edited = edited_;
  const std::string corrected = new_text_;
  const std::string curator = curator_;
  auto decided = decided_;
  ProjectDocument* document = document_;
  document_->write(
      [edited, corrected, curator, decided, document](db::Project& p) -> Status {
        db::ImageWithCaptions item;
        item.image = edited.image;  // already in the project: only the caption is added
        item.captions.push_back({corrected, db::CaptionSource::kHuman, 0});
        if (auto added = p.insert_pairs({item}); !added) return added.status();
        auto id = find_caption(p, edited.image_id, corrected, db::CaptionSource::kHuman);
        if (!id) return id.status();
        std::vector<db::DecisionInput> decisions;
        decisions.push_back({*id, db::Decision::kKeep, db::DecisionOrigin::kCurator, curator,
                             "corrected caption"});
        if (edited.caption.source != db::CaptionSource::kHuman && edited.caption_id != *id) {
          decisions.push_back({edited.caption_id, db::Decision::kDrop,
                               db::DecisionOrigin::kCurator, curator, "replaced by a correction"});
        }
        if (Status s = p.decide(decisions); !s) return s;
        *decided = static_cast<int64_t>(decisions.size());
        document->notifyCaptionAdded(*id, QString::fromStdString(edited.image.path),
                                     QString::fromStdString(corrected));
        return Status::ok();
      },
      text(), {edited.caption_id});
}

void EditCaptionCommand::undo() {
  const std::string curator = curator_;
  auto decided = decided_;
  document_->write(
      [curator, decided](db::Project& p) -> Status {
        if (*decided == 0) return Status::ok();
        auto undone = p.undo(curator, *decided);
        *decided = 0;
        return undone ? Status::ok() : undone.status();
      },
      QObject::tr("Undo %1").arg(text()), {edited_.caption_id});
}

}  // namespace capfilt::ui
