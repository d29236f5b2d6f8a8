// parm-studio: the desktop front end. The engine runs as `parm` processes; this binary only configures and
// shows. `parm-studio [PROJECT] [--run ID] [--config FILE|PRESET] [--side-by-side] [--screenshots DIR]`; with
// --screenshots it grabs every page once the run is loaded and exits (scripts/screenshots.sh).
#include <QApplication>
#include <QCommandLineParser>
#include <QFile>
#include <QTimer>

#include "app/app_theme.h"
#include "app/config_page.h"
#include "app/main_window.h"
#include "app/timeline/timeline_widget.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("ParmStudio");
  QApplication::setApplicationName("parm-studio");
  QApplication::setApplicationVersion("0.1.0");

  QCommandLineParser parser;
  parser.setApplicationDescription("Parm Studio: measured versus predicted MoE communication schedules");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("project", "Project file (SQLite) to open");
  const QCommandLineOption runOption("run", "Run to show (default: the latest complete run)", "id");
  const QCommandLineOption configOption("config", "Configuration file or embedded preset name",
                                        "file|preset");
  const QCommandLineOption parmOption("parm", "The parm executable (default: next to parm-studio)", "path");
  const QCommandLineOption sideOption("side-by-side", "Timeline: one column per schedule");
  const QCommandLineOption shotsOption("screenshots", "Save every page as DIR/<page>.png and quit", "dir");
  parser.addOptions({runOption, configOption, parmOption, sideOption, shotsOption});
  parser.process(app);

  if (const auto theme = parm::app::savedTheme(); theme != parm::app::Theme::System)
    parm::app::applyTheme(theme);
  parm::app::MainWindow window(parser.value(parmOption));
  if (parser.isSet(shotsOption)) window.resize(1500, 900);  // before the run loads, so the timeline fits it
  // The window first, then the project from the event loop: a big run loads behind a window that answers.
  window.show();
  window.afterFirstPaint([&window, &parser, &runOption, &configOption, &sideOption, &shotsOption] {
    if (!parser.positionalArguments().isEmpty()) window.openProject(parser.positionalArguments().front());
    if (parser.isSet(runOption)) window.selectRun(parser.value(runOption).toLongLong());
    // After the run: --config wins over the configuration of the run that was selected.
    if (parser.isSet(configOption)) {
      const QString value = parser.value(configOption);
      QFile file(value);
      if (file.open(QIODevice::ReadOnly))
        window.configPage()->setConfigText(QString::fromUtf8(file.readAll()));
      else if (!window.configPage()->loadPreset(value))
        window.showMessage(QObject::tr("--config: %1 is neither a readable file nor a preset").arg(value));
    }

    if (parser.isSet(sideOption)) window.timeline()->setSideBySide(true);
    if (!parser.isSet(shotsOption)) return;
    const QString dir = parser.value(shotsOption);
    auto shoot = [&window, dir] {
      const QString error = window.saveScreenshots(dir);
      if (!error.isEmpty()) qCritical("%s", qPrintable(error));
      QApplication::exit(error.isEmpty() ? 0 : 1);
    };
    // Wait for the run's load (timeline worker, then the pages), then let the views lay out once more.
    if (window.isLoading())
      QObject::connect(&window, &parm::app::MainWindow::loadingChanged, &window, [shoot](bool loading) {
        if (!loading) QTimer::singleShot(300, shoot);
      });
    else
      QTimer::singleShot(300, shoot);
  });
  return QApplication::exec();
}
