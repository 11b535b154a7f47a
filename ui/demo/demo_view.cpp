#include "ui/demo/demo_view.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

#include "ui/demo/ask_panel.h"
#include "ui/demo/caption_panel.h"
#include "ui/demo/demo_worker.h"
#include "ui/demo/heat_map.h"
#include "ui/demo/image_canvas.h"
#include "ui/demo/match_panel.h"
#include "ui/demo/project_image_dialog.h"
#include "ui/shared/engine_cache.h"
#include "ui/shared/model_selector.h"
#include "ui/shared/project_document.h"

namespace capfilt::ui {
namespace {

QImage to_qimage(const core::RgbImage& image) {
  return QImage(image.pixels.data(), image.width, image.height, image.width * 3,
                QImage::Format_RGB888)
      .copy();
}

QString message_of(const Status& status) {
  return QString::fromStdString(status.message());
}

// The text encoder's depth from the model's configuration (0 when it is not there).
int text_layers(const core::ModelInfo& info) {
  const auto json = QJsonDocument::fromJson(QByteArray::fromStdString(info.config_json));
  return json.object().value("text").toObject().value("layers").toInt(0);
}

QGroupBox* group(const QString& title, QWidget* content) {
  auto* box = new QGroupBox(title);
  auto* layout = new QVBoxLayout(box);
  layout->addWidget(content);
  return box;
}

struct MatchResult {
  Result<core::PairScore> score;
  Result<core::GradCam> cam;
};

}  // namespace

DemoView::DemoView(EngineCache* engines, ProjectDocument* document,
                   const QString& demo_models_folder, QWidget* parent)
    : QWidget(parent), engines_(engines), document_(document) {
  setObjectName("demo");
  setAcceptDrops(true);
  worker_ = new DemoWorker(this);
  captioner_ = new ModelSelector(tr("Captioner"), this);
  scorer_ = new ModelSelector(tr("Scorer (ITM)"), this);
  canvas_ = new ImageCanvas(this);
  caption_ = new CaptionPanel(this);
  match_ = new MatchPanel(this);
  ask_ = new AskPanel(this);

  auto* left = new QWidget(this);
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  left_layout->addWidget(canvas_, 1);
  left_layout->addWidget(group(tr("Match a caption · Grad-CAM"), match_));
  auto* right = new QWidget(this);
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  right_layout->addWidget(group(tr("Caption"), caption_), 3);
  right_layout->addWidget(group(tr("Ask a question"), ask_), 2);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(buildTopBar());
  layout->addWidget(split, 1);

  captioner_->setDemoModelsFolder(demo_models_folder);
  scorer_->setDemoModelsFolder(demo_models_folder);
  refreshModels();
  captioner_->setPreferredTask("captioner");
  scorer_->setPreferredTask("filter");

  for (ModelSelector* selector : {captioner_, scorer_}) {
    connect(selector, &ModelSelector::modelChanged, this, [this](const QString& path) {
      engines_->request(path);
      updateState();
    });
    engines_->request(selector->currentPath());
  }
  connect(engines_, &EngineCache::ready, this, [this](const QString& path) {
    updateState();
    if (path == scorer_->currentPath()) runMatch(match_->text());
  });
  connect(engines_, &EngineCache::failed, this, [this] { updateState(); });
  connect(worker_, &DemoWorker::busyChanged, this, [this] { updateState(); });
  connect(canvas_, &ImageCanvas::fileDropped, this, &DemoView::openImage);
  connect(caption_, &CaptionPanel::captionRequested, this, &DemoView::runCaptions);
  connect(caption_, &CaptionPanel::captionChosen, match_, &MatchPanel::setText);
  connect(match_, &MatchPanel::textSettled, this, &DemoView::runMatch);
  connect(match_, &MatchPanel::heatChanged, this, &DemoView::showHeat);
  connect(match_, &MatchPanel::opacityChanged, canvas_, &ImageCanvas::setOverlayOpacity);
  connect(ask_, &AskPanel::askRequested, this, &DemoView::runAsk);
  updateState();
}

DemoView::~DemoView() = default;  // worker_ (a child) waits for its job before the panels go

QWidget* DemoView::buildTopBar() {
  auto* bar = new QWidget(this);
  auto* open = new QPushButton(tr("Open image…"), bar);
  from_project_ = new QPushButton(tr("From project…"), bar);
  from_project_->setEnabled(document_ != nullptr);
  status_ = new QLabel(bar);
  status_->setWordWrap(true);
  auto* layout = new QHBoxLayout(bar);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(open);
  layout->addWidget(from_project_);
  layout->addSpacing(12);
  layout->addWidget(captioner_, 1);
  layout->addWidget(scorer_, 1);
  auto* column = new QWidget(this);
  auto* rows = new QVBoxLayout(column);
  rows->setContentsMargins(0, 0, 0, 0);
  rows->addWidget(bar);
  rows->addWidget(status_);
  connect(open, &QPushButton::clicked, this, &DemoView::chooseImageFile);
  connect(from_project_, &QPushButton::clicked, this, &DemoView::chooseProjectImage);
  return column;
}

void DemoView::refreshModels() {
  if (!document_) return;
  auto models = document_->project().models();
  if (models) {
    captioner_->setProjectModels(*models);
    scorer_->setProjectModels(*models);
  }
}

EnginePtr DemoView::engineOf(const ModelSelector* selector) const {
  return engines_->engine(selector->currentPath());
}

QString DemoView::statusText() const {
  return status_->text();
}

void DemoView::updateState() {
  QStringList parts;
  for (const ModelSelector* selector : {captioner_, scorer_}) {
    const QString path = selector->currentPath();
    const QString name = selector == captioner_ ? tr("captioner") : tr("scorer");
    if (path.isEmpty()) {
      parts << tr("no %1 chosen").arg(name);
    } else if (engines_->isLoading(path)) {
      parts << tr("loading the %1…").arg(name);
    } else if (!engines_->error(path).isEmpty()) {
      parts << tr("the %1 could not be opened: %2").arg(name, engines_->error(path));
    } else if (auto engine = engines_->engine(path)) {
      parts << tr("%1 ready on %2").arg(name, QString::fromStdString(engine->info().device));
    }
  }
  if (!image_error_.isEmpty()) parts << image_error_;
  if (worker_->busy()) parts << tr("working…");
  status_->setText(parts.join(QStringLiteral("  ·  ")));
  const bool has_image = !image_path_.isEmpty();
  caption_->setRunnable(has_image && engineOf(captioner_) != nullptr);
  ask_->setRunnable(has_image && (engineOf(captioner_) || engineOf(scorer_)));
  if (auto scorer = engineOf(scorer_)) match_->setLayerRange(text_layers(scorer->info()));
}

void DemoView::chooseImageFile() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open an image"), QFileInfo(image_path_).absolutePath(),
      tr("Images (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff);;All files (*)"));
  if (!path.isEmpty()) openImage(path);
}

void DemoView::chooseProjectImage() {
  if (!document_) return;
  ProjectImageDialog dialog(document_, this);
  if (dialog.exec() != QDialog::Accepted || dialog.imagePath().isEmpty()) return;
  openImage(dialog.imagePath());
  if (!dialog.caption().isEmpty()) match_->setText(dialog.caption());
}

void DemoView::openImage(const QString& path) {
  const int generation = ++image_generation_;
  const std::string file = path.toStdString();
  worker_->run<Result<QImage>>(
      [file](DemoSession& session) -> Result<QImage> {
        if (Status s = session.openImage(file); !s) return s;
        return to_qimage(session.image());
      },
      [this, generation, path](const Result<QImage>& image) {
        if (generation != image_generation_) return;
        if (!image) {
          image_error_ = message_of(image.status());
          updateState();
          return;
        }
        image_error_.clear();
        image_path_ = path;
        canvas_->setImage(*image);
        caption_->showCaptions({});
        ask_->showAnswers({}, false);
        match_->clearResults();
        updateState();
        Q_EMIT imageLoaded(path);
        runMatch(match_->text());
      });
}

void DemoView::runCaptions() {
  EnginePtr captioner = engineOf(captioner_);
  if (!captioner || image_path_.isEmpty()) return;
  EnginePtr scorer = engineOf(scorer_);
  const core::CaptionOptions options = caption_->options();
  const int generation = image_generation_;
  using Rows = Result<std::vector<CaptionRow>>;
  worker_->run<Rows>([captioner, scorer,
                      options](DemoSession& s) { return s.caption(captioner, scorer, options); },
                     [this, generation](const Rows& rows) {
                       if (generation != image_generation_) return;
                       if (rows) {
                         caption_->showCaptions(*rows);
                       } else {
                         caption_->showError(message_of(rows.status()));
                       }
                       Q_EMIT captionsShown();
                     });
}

void DemoView::runMatch(const QString& text) {
  const int generation = ++match_generation_;
  EnginePtr scorer = engineOf(scorer_);
  if (text.isEmpty() || image_path_.isEmpty() || !scorer) {
    match_->clearResults();
    return;
  }
  core::GradCamOptions cam_options;
  cam_options.layer = match_->layer();
  const std::string caption = text.toStdString();
  worker_->run<MatchResult>(
      [scorer, caption, cam_options](DemoSession& s) {
        return MatchResult{s.score(scorer, caption), s.gradcam(scorer, caption, cam_options)};
      },
      [this, generation](const MatchResult& result) {
        if (generation != match_generation_) return;
        if (!result.score) {
          match_->showError(message_of(result.score.status()));
        } else {
          match_->showScores(*result.score);
        }
        if (result.cam) {
          match_->showGradCam(*result.cam);
        } else if (result.score) {
          match_->showError(match_->scoreText() + "  ·  " + message_of(result.cam.status()));
        }
        Q_EMIT matchShown();
      });
}

void DemoView::showHeat() {
  const core::GradCam& cam = match_->gradCam();
  const std::vector<float> heat = match_->selectedHeat();
  canvas_->setOverlay(heat.empty() ? QImage() : heat_map_image(heat, cam.grid_rows, cam.grid_cols));
}

void DemoView::runAsk() {
  const std::vector<std::string> candidates = ask_->candidates();
  // Ranking needs a question encoder and an answer decoder: the captioner if it has them, else
  // the scorer if it has (a pre-trained or VQA model); generating needs a decoder.
  EnginePtr model = engineOf(captioner_);
  EnginePtr scorer = engineOf(scorer_);
  if (!candidates.empty() && (!model || !model->info().can_answer) && scorer &&
      scorer->info().can_answer) {
    model = scorer;
  }
  if (image_path_.isEmpty() || ask_->question().isEmpty()) return;
  if (!model) {
    ask_->showError(tr("Choose a captioner (or a model with a question encoder) first."));
    return;
  }
  const std::string question = ask_->question().toStdString();
  const int generation = image_generation_;
  const bool ranked = !candidates.empty();
  using Answers = Result<std::vector<core::GeneratedText>>;
  worker_->run<Answers>(
      [model, question, candidates](DemoSession& s) {
        return s.ask(model, question, candidates, answer_options());
      },
      [this, generation, ranked](const Answers& answers) {
        if (generation != image_generation_) return;
        if (answers) {
          ask_->showAnswers(*answers, ranked);
        } else {
          ask_->showError(message_of(answers.status()));
        }
        Q_EMIT answersShown();
      });
}

void DemoView::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void DemoView::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.first().isLocalFile()) return;
  event->acceptProposedAction();
  openImage(urls.first().toLocalFile());
}

}  // namespace capfilt::ui
