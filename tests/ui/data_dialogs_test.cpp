// Import and export dialogs: the core importer and exporter run on a worker thread (their own
// connection) with progress; the import report and the history come back to the GUI thread.

#include <QApplication>
#include <QFile>

#include "core/demo_data.h"
#include "ui/data/export_dialog.h"
#include "ui/data/import_dialog.h"
#include "ui/shared/project_document.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

TEST(DataDialogs, ImportWithPreviewThenExport) {
  const std::filesystem::path dir = test::scratch("dialogs");
  core::DemoDataOptions demo;
  demo.count = 30;
  ASSERT_TRUE(core::generate_demo_data((dir / "data").string(), demo).is_ok());
  auto doc = ProjectDocument::open(QString::fromStdString((dir / "p.capfilt").string()), "f", true);
  ASSERT_TRUE(doc.is_ok());
  std::unique_ptr<ProjectDocument> document = std::move(doc.value());
  bool reloaded = false;
  QObject::connect(document.get(), &ProjectDocument::decisionsChanged, [&] { reloaded = true; });

  ImportDialog import(document.get());
  import.setSource(QString::fromStdString((dir / "data" / "web_train.json").string()));
  ASSERT_TRUE(test::wait_until([&] { return import.previewRows() > 0; })) << "no preview";
  EXPECT_LE(import.previewRows(), 20);  // at most the first 20 records
  import.startImport();
  ASSERT_TRUE(test::wait_until([&] { return !import.reportText().isEmpty(); }, 20000));
  EXPECT_TRUE(import.reportText().startsWith("Import completed")) << import.reportText().toStdString();
  EXPECT_TRUE(reloaded);
  auto counts = document->project().decision_counts();
  ASSERT_TRUE(counts.is_ok());
  EXPECT_GT(counts->undecided, 0);
  ASSERT_EQ(document->project().import_runs()->size(), 1u);

  document->setImagesRoot(QString::fromStdString((dir / "data").string()));
  ExportDialog exporter(document.get());
  const std::filesystem::path out = dir / "out.json";
  exporter.setOutput(QString::fromStdString(out.string()));
  exporter.startExport();
  ASSERT_TRUE(test::wait_until([&] { return !exporter.reportText().isEmpty(); }, 20000));
  // Nothing is kept yet, so the default selection (kept + human) writes no web captions.
  EXPECT_TRUE(exporter.reportText().startsWith("Exported 0 captions")) << exporter.reportText().toStdString();
  EXPECT_TRUE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
