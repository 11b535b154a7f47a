#include "ui/shared/main_window.h"

#include <QApplication>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QThread>
#include <QUndoView>

#include "core/thumbnails.h"
#include "ui/browse/browse_view.h"
#include "ui/data/export_dialog.h"
#include "ui/demo/demo_view.h"
#include "ui/data/import_dialog.h"
#include "ui/jobs/job_form.h"
#include "ui/jobs/jobs_panel.h"
#include "ui/models/model_choice.h"
#include "ui/models/models_panel.h"
#include "ui/review/review_actions.h"
#include "ui/review/review_view.h"
#include "ui/retrieval/retrieval_view.h"
#include "ui/review/shortcut_dialog.h"
#include "ui/shared/engine_cache.h"
#include "ui/shared/project_document.h"
#include "ui/shared/studio_settings.h"
#include "ui/shared/thumbnail_loader.h"
#include "ui/start/demo_project_runner.h"
#include "ui/start/start_page.h"
#include "ui/thresholds/threshold_view.h"

namespace capfilt::ui {

MainWindow::MainWindow(StudioSettings* settings, const Options& options, QWidget* parent)
    : QMainWindow(parent), settings_(settings), options_(options) {
  thumbnail_cache_ = std::make_unique<core::ThumbnailCache>(options_.thumbnail_dir.toStdString());
  engines_ = std::make_unique<EngineCache>(EngineCache::engineOpener(options_.vocab_path));
  if (options_.demo_dir.isEmpty())
    options_.demo_dir = QDir::home().filePath(".local/share/capfilt-studio/demo");
  stack_ = new QStackedWidget(this);
  setCentralWidget(stack_);
  start_ = new StartPage(settings_, stack_);
  stack_->addWidget(start_);
  counts_ = new QLabel(this);
  lock_ = new QLabel(this);
  lock_->setStyleSheet("color: #a01010; font-weight: bold;");
  lock_->setWordWrap(true);
  lock_->hide();
  statusBar()->addWidget(counts_);
  statusBar()->addWidget(lock_, 1);
  demo_runner_ = new DemoProjectRunner(this);
  connect(demo_runner_, &DemoProjectRunner::progress, start_, &StartPage::showDemoProgress);
  connect(demo_runner_, &DemoProjectRunner::failed, start_, &StartPage::showDemoFailure);
  connect(demo_runner_, &DemoProjectRunner::succeeded, this, [this](const QString& path) {
    start_->demoFinished();
    openProject(path);
  });
  connect(start_, &StartPage::demoRequested, this, &MainWindow::openDemo);
  connect(start_, &StartPage::newProjectRequested, this, &MainWindow::newProject);
  connect(start_, &StartPage::openProjectRequested, this, &MainWindow::chooseProject);
  connect(start_, &StartPage::openRecentRequested, this, [this](const QString& p) { openProject(p); });
  buildMenus();
  setWindowTitle(tr("CapFilt Studio"));
  resize(1280, 800);
}

MainWindow::~MainWindow() { closeProject(); }

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&New project…"), this, &MainWindow::newProject);
  file->addAction(tr("&Open project…"), QKeySequence::Open, this, &MainWindow::chooseProject);
  file->addAction(tr("Open the &demo project"), this, &MainWindow::openDemo);
  file->addAction(tr("&Close project"), this, &MainWindow::closeProject);
  file->addSeparator();
  file->addAction(tr("&Import dataset…"), this, [this] {
    if (!document_) return;
    ImportDialog dialog(document_.get(), this);
    dialog.exec();
  });
  file->addAction(tr("Import &history…"), this, [this] {
    if (!document_) return;
    ImportHistoryDialog dialog(document_.get(), this);
    dialog.exec();
  });
  file->addAction(tr("&Export…"), this, [this] {
    if (!document_) return;
    ExportDialog dialog(document_.get(), this);
    dialog.exec();
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  undo_ = edit->addAction(tr("&Undo"), this, [this] {
    if (document_) document_->undoStack()->undo();
  });
  redo_ = edit->addAction(tr("&Redo"), this, [this] {
    if (document_) document_->undoStack()->redo();
  });
  reloadUndoKeys();
  edit->addSeparator();
  edit->addAction(tr("Curator &name…"), this, &MainWindow::askCurator);
  edit->addAction(tr("Review &shortcuts…"), this, &MainWindow::editShortcuts);
  edit->addAction(tr("&Images folder…"), this, [this] {
    if (!document_) return;
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder the image paths are relative to"),
                                                          document_->imagesRoot());
    if (dir.isEmpty()) return;
    settings_->setImagesRoot(document_->path(), dir);
    const QString path = document_->path();
    openProject(path);
  });
}

QString MainWindow::guessImagesRoot(const QString& project_path) {
  // The dataset root the newest import recorded (schema 8); older projects: the import's folder.
  auto roots = document_->project().dataset_roots();
  if (roots && !roots->empty()) return QString::fromStdString(roots->front());
  auto runs = document_->project().import_runs();
  if (runs && !runs->empty()) {
    const QFileInfo source(QString::fromStdString(runs->front().source_path));
    return source.isDir() ? source.absoluteFilePath() : source.absolutePath();
  }
  return QFileInfo(project_path).absolutePath();
}

bool MainWindow::openProject(const QString& path, bool create, bool quiet) {
  closeProject();
  auto opened = ProjectDocument::open(path, settings_->curator(), create);
  if (!opened) {
    if (!quiet)
      QMessageBox::critical(this, tr("Cannot open project"),
                            QString::fromStdString(opened.status().message()));
    return false;
  }
  document_ = std::move(opened.value());
  QString root = settings_->imagesRoot(document_->path());
  if (root.isEmpty()) root = guessImagesRoot(path);
  document_->setImagesRoot(root);
  ProjectDocument* doc = document_.get();
  auto resolve = [doc](const QString& p) { return doc->absoluteImagePath(p); };
  small_images_ = std::make_unique<ThumbnailLoader>(thumbnail_cache_.get(), 96, resolve);
  large_images_ = std::make_unique<ThumbnailLoader>(thumbnail_cache_.get(), 512, resolve);

  if (options_.scorer_for_model) {
    // The project's filter (chosen in the Models tab, else its newest), else its newest model.
    const db::ModelRecord* filter = nullptr;
    auto models = document_->project().models();
    if (models && !models->empty()) {
      filter = model_with_id(*models, chosen_filter(document_->project()));
      if (!filter) filter = &models->back();
    }
    if (filter) {
      scorer_ = std::make_unique<CaptionScorer>(
          doc, options_.scorer_for_model(filter->checkpoint_path), filter->id);
      connect(scorer_.get(), &CaptionScorer::failed, this, [this](qint64 id, const QString& why) {
        statusBar()->showMessage(tr("Caption #%1 could not be scored: %2").arg(id).arg(why), 10000);
      });
    }
  }

  tabs_ = new QTabWidget(stack_);
  browse_ = new BrowseView(doc, small_images_.get(), tabs_);
  review_ = new ReviewView(doc, settings_, large_images_.get(), tabs_);
  review_->setUndoKeysInWindow(true);
  thresholds_ = new ThresholdView(doc, tabs_);
  tabs_->addTab(review_, tr("Review"));
  tabs_->addTab(browse_, tr("Browse"));
  tabs_->addTab(thresholds_, tr("Thresholds"));
  RetrievalView::Options retrieval_options;
  retrieval_options.vocab_path = options_.vocab_path;
  retrieval_ = new RetrievalView(doc, small_images_.get(), retrieval_options, tabs_);
  tabs_->addTab(retrieval_, tr("Retrieval"));
  demo_ = new DemoView(engines_.get(), doc, QDir(options_.demo_dir).filePath("models"), tabs_);
  tabs_->addTab(demo_, tr("Caption && VQA"));
  jobs_ = new JobsPanel(doc, capfiltProgram(), tabs_);
  models_ = new ModelsPanel(doc, jobs_, tabs_);
  tabs_->addTab(jobs_, tr("Jobs"));
  tabs_->addTab(models_, tr("Models"));
  connect(models_, &ModelsPanel::evaluateRequested, this, [this](qint64 model_id) {
    jobs_->form()->prepareEvaluation(model_id);
    jobs_->showForm();
    tabs_->setCurrentWidget(jobs_);
  });
  stack_->addWidget(tabs_);
  stack_->setCurrentWidget(tabs_);
  auto open_in_review = [this](qint64 caption, const QString& path) {
    if (review_->showCaption(caption, path)) {
      tabs_->setCurrentWidget(review_);
      review_->setFocus();
    }
  };
  connect(browse_, &BrowseView::reviewRequested, this, open_in_review);
  connect(retrieval_, &RetrievalView::pairRequested, this, open_in_review);
  review_->setFocus();

  history_ = new QDockWidget(tr("Undo history"), this);
  history_->setObjectName("undoHistory");
  auto* view = new QUndoView(doc->undoStack(), history_);
  view->setEmptyLabel(tr("<opened>"));
  history_->setWidget(view);
  addDockWidget(Qt::RightDockWidgetArea, history_);
  resizeDocks({history_}, {220}, Qt::Horizontal);

  connect(doc, &ProjectDocument::decisionsChanged, this, &MainWindow::updateCounts);
  connect(doc, &ProjectDocument::lockChanged, this, [this](bool locked, const QString& message) {
    lock_->setText(message);
    lock_->setVisible(locked);
  });
  connect(doc, &ProjectDocument::writeFailed, this, [this](const QString& message) {
    statusBar()->showMessage(message, 10000);
  });
  settings_->addRecentProject(document_->path());
  start_->refreshRecent();
  setWindowTitle(tr("%1 — CapFilt Studio").arg(QFileInfo(path).fileName()));
  updateCounts();
  return true;
}

void MainWindow::closeProject() {
  if (!document_) return;
  if (history_) {
    removeDockWidget(history_);
    delete history_;
    history_ = nullptr;
  }
  if (tabs_) {
    stack_->removeWidget(tabs_);
    delete tabs_;  // the views, before the loaders and the document they use
    tabs_ = nullptr;
    browse_ = nullptr;
    review_ = nullptr;
    thresholds_ = nullptr;
    retrieval_ = nullptr;
    jobs_ = nullptr;  // its jobs keep running; a later window reattaches to them
    models_ = nullptr;
    demo_ = nullptr;
  }
  scorer_.reset();
  small_images_.reset();
  large_images_.reset();
  document_.reset();
  stack_->setCurrentWidget(start_);
  counts_->clear();
  lock_->hide();
  setWindowTitle(tr("CapFilt Studio"));
}

void MainWindow::openDemo() {
  const QString folder = options_.demo_dir;
  // The child always runs: it returns at once when the project is complete, and finishes an
  // interrupted build (models, import, CapFilt) otherwise.
  const QString program = capfiltProgram();
  stack_->setCurrentWidget(start_);
  start_->showDemoProgress(0, 0, tr("Building the demo project in %1 …").arg(folder));
  demo_runner_->start(program, folder);
}

QString MainWindow::capfiltProgram() const {
  if (!options_.capfilt_program.isEmpty()) return options_.capfilt_program;
  return QDir(QCoreApplication::applicationDirPath()).filePath("capfilt");
}

void MainWindow::newProject() {
  const QString path = QFileDialog::getSaveFileName(this, tr("New project"), QDir::homePath(),
                                                    tr("CapFilt projects (*.capfilt)"));
  if (path.isEmpty()) return;
  openProject(path.endsWith(".capfilt") ? path : path + ".capfilt", /*create=*/true);
}

void MainWindow::chooseProject() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), QDir::homePath(),
                                                    tr("CapFilt projects (*.capfilt);;All files (*)"));
  if (!path.isEmpty()) openProject(path);
}

void MainWindow::askCurator() {
  bool ok = false;
  const QString name = QInputDialog::getText(this, tr("Curator"),
                                             tr("Your name, recorded with every decision:"),
                                             QLineEdit::Normal, settings_->curator(), &ok)
                           .trimmed();
  if (!ok || name.isEmpty()) return;
  settings_->setCurator(name);
  if (document_) document_->setCurator(name);
  updateCounts();
}

void MainWindow::editShortcuts() {
  ShortcutDialog dialog(settings_, this);
  if (dialog.exec() != QDialog::Accepted) return;
  reloadUndoKeys();
  if (review_) review_->reloadShortcuts();
}

// Undo and redo are the window's keys (every view's), bound as the review's settings say.
void MainWindow::reloadUndoKeys() {
  for (const auto& a : review_actions()) {
    if (a.action == ReviewAction::kUndo) undo_->setShortcut(settings_->shortcut(a.name, a.default_keys));
    if (a.action == ReviewAction::kRedo) redo_->setShortcut(settings_->shortcut(a.name, a.default_keys));
  }
}

void MainWindow::updateCounts() {
  if (!document_) return;
  auto counts = document_->project().decision_counts();
  if (!counts) {
    counts_->setText(QString::fromStdString(counts.status().message()));
    return;
  }
  counts_->setText(tr("%L1 undecided · %L2 kept · %L3 dropped · curator: %4")
                       .arg(static_cast<qlonglong>(counts->undecided))
                       .arg(static_cast<qlonglong>(counts->keep))
                       .arg(static_cast<qlonglong>(counts->drop))
                       .arg(document_->curator().isEmpty() ? tr("(not set)") : document_->curator()));
}

QString MainWindow::statusText() const {
  return lock_->isVisible() ? lock_->text() : counts_->text();
}

namespace {
// Lets queued thumbnails arrive: runs the event loop until the loaders are idle (at most 3 s).
void settle(ThumbnailLoader* a, ThumbnailLoader* b) {
  QElapsedTimer timer;
  timer.start();
  for (int round = 0; round < 3 && timer.elapsed() < 3000; ++round) {
    QCoreApplication::processEvents();
    if (a) a->waitForDone();
    if (b) b->waitForDone();
    QCoreApplication::processEvents();
    QThread::msleep(20);
  }
}
}  // namespace

QStringList MainWindow::saveScreenshots(const QString& dir) {
  QDir().mkpath(dir);
  QStringList files;
  auto save = [&](QWidget* w, const QString& name) {
    settle(small_images_.get(), large_images_.get());
    w->grab();  // the first paint asks for thumbnails
    settle(small_images_.get(), large_images_.get());
    const QString file = QDir(dir).filePath(name + ".png");
    if (w->grab().save(file)) files << file;
  };
  QWidget* before = stack_->currentWidget();
  stack_->setCurrentWidget(start_);
  if (history_) history_->hide();  // the start page as a newcomer sees it
  save(this, "start");
  if (history_) history_->show();
  if (tabs_) {
    stack_->setCurrentWidget(tabs_);
    for (int k = 0; k < tabs_->count(); ++k) {
      tabs_->setCurrentIndex(k);
      const QString name = tabs_->widget(k)->objectName();
      save(this, name.isEmpty() ? tabs_->tabText(k).toLower() : name);
    }
    tabs_->setCurrentWidget(browse_);
    browse_->setGridMode(true);
    save(this, "browse-grid");
    browse_->setGridMode(false);
    tabs_->setCurrentWidget(review_);
    review_->trigger(ReviewAction::kHelp);
    save(this, "review-help");
    review_->trigger(ReviewAction::kHelp);
    ShortcutDialog shortcuts(settings_, this);
    shortcuts.adjustSize();
    save(&shortcuts, "shortcuts");
    ImportDialog import(document_.get(), this);
    save(&import, "import");
    ImportHistoryDialog history(document_.get(), this);
    save(&history, "import-history");
    ExportDialog exporter(document_.get(), this);
    save(&exporter, "export");
  }
  stack_->setCurrentWidget(before);
  return files;
}

}  // namespace capfilt::ui
