// parm-studio: the desktop front end. The engine runs as `parm` processes; this binary only configures and
// shows.
#include <QApplication>

#include "app/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("ParmStudio");
  QApplication::setApplicationName("parm-studio");
  QApplication::setApplicationVersion("0.1.0");
  parm::app::MainWindow window;
  window.show();
  return QApplication::exec();
}
