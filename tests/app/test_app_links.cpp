// parm-studio links no engine execution code (issue 13 item 6): no MPI, no BLAS/LAPACK, no CUDA runtime among
// its NEEDED libraries, and none of the cluster, communicator or kernel code (nor the MPI, BLAS or
// network-namespace calls they make) linked in statically. The same checks run on `parm`, which must fail
// them, so the test proves it can see what it looks for.
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>
#include <algorithm>

namespace {

QString runTool(const QString& tool, const QStringList& args) {
  QProcess p;
  p.start(tool, args);
  if (!p.waitForFinished(60000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) return {};
  return QString::fromLocal8Bit(p.readAllStandardOutput());
}

// The shared libraries an executable names (readelf -d: "Shared library: [libX.so.N]").
QStringList neededLibraries(const QString& exe) {
  QStringList out;
  static const QRegularExpression needed(QStringLiteral(R"(\(NEEDED\).*\[([^\]]+)\])"));
  for (const QString& line : runTool(QStringLiteral("readelf"), {QStringLiteral("-d"), exe}).split('\n'))
    if (const auto m = needed.match(line); m.hasMatch()) out << m.captured(1);
  return out;
}

const QRegularExpression& forbiddenLibrary() {
  static const QRegularExpression re(
      QStringLiteral(R"(^lib(mpi|open-pal|open-rte|pmix|.*blas|lapack|cudart|cuda)[._])"));
  return re;
}

// Demangled symbols (defined and undefined) that belong to execution code: the cluster, communicator and
// kernel namespaces, MPI and BLAS entry points, and the network-namespace system calls.
const QRegularExpression& forbiddenSymbol() {
  static const QRegularExpression re(QStringLiteral(
      R"((parm::cluster::|parm::comm::|parm::kernels::|\bMPI_[A-Z][a-z_]+|\bcblas_|\b[sd]gemm_\b|\bunshare\b|\bsetns\b))"));
  return re;
}

struct Findings {
  QStringList libraries, symbols;
  int needed = 0, appSymbols = 0;
};

Findings inspect(const QString& exe) {
  Findings f;
  const QStringList needed = neededLibraries(exe);
  f.needed = static_cast<int>(needed.size());
  for (const QString& lib : needed)
    if (forbiddenLibrary().match(lib).hasMatch()) f.libraries << lib;
  for (const QString& line : runTool(QStringLiteral("nm"), {QStringLiteral("-C"), exe}).split('\n')) {
    if (line.contains(QLatin1String("parm::"))) ++f.appSymbols;
    if (forbiddenSymbol().match(line).hasMatch() && f.symbols.size() < 10) f.symbols << line.trimmed();
  }
  return f;
}

}  // namespace

class TestAppLinks : public QObject {
  Q_OBJECT
 private slots:
  void studioLinksNoExecutionCode() {
    const Findings f = inspect(QStringLiteral(PARM_STUDIO_EXE));
    QVERIFY2(f.needed > 0, "readelf listed no NEEDED library of parm-studio");
    QVERIFY2(f.appSymbols > 0, "nm listed no parm:: symbol of parm-studio");
    QVERIFY2(f.libraries.isEmpty(), qPrintable("parm-studio needs " + f.libraries.join(", ")));
    QVERIFY2(f.symbols.isEmpty(), qPrintable("parm-studio contains " + f.symbols.join(" | ")));
    QVERIFY(neededLibraries(QStringLiteral(PARM_STUDIO_EXE)).contains(QStringLiteral("libQt6Core.so.6")));
  }

  // The control: `parm` runs layers, so the same checks must find MPI, BLAS and the cluster code in it.
  void checksSeeTheEnginesLinks() {
    const Findings f = inspect(QStringLiteral(PARM_EXE));
    QVERIFY2(std::any_of(f.libraries.begin(), f.libraries.end(),
                         [](const QString& l) { return l.startsWith(QLatin1String("libmpi")); }),
             qPrintable("no libmpi found in parm: " + f.libraries.join(", ")));
    QVERIFY2(std::any_of(f.libraries.begin(), f.libraries.end(),
                         [](const QString& l) { return l.contains(QLatin1String("blas")); }),
             qPrintable("no BLAS found in parm: " + f.libraries.join(", ")));
    QVERIFY2(!f.symbols.isEmpty(), "no execution symbol found in parm");
  }
};

QTEST_GUILESS_MAIN(TestAppLinks)
#include "test_app_links.moc"
