#include "app/launch/launch_panel.h"

#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>
#include <tuple>
#include <utility>

#include "app/launch/parm_process.h"
#include "app/launch/project.h"
#include "app/launch/slurm_job_line.h"
#include "engine/core/config_json.h"

namespace parm::app {
namespace {

// The Slurm row is remembered between sessions (the login host and account rarely change).
constexpr const char* kSlurmKeys[] = {"launch/slurm/host", "launch/slurm/partition", "launch/slurm/account",
                                      "launch/slurm/time", "launch/slurm/remoteParm"};

SlurmTarget storedSlurmTarget() {
  QSettings settings;
  const auto value = [&](int i) { return settings.value(kSlurmKeys[i]).toString(); };
  return {value(0), value(1), value(2), value(3), value(4)};
}

void storeSlurmTarget(const SlurmTarget& t) {
  QSettings settings;
  const QString values[] = {t.host, t.partition, t.account, t.timeLimit, t.remoteParm};
  for (int i = 0; i < 5; ++i) settings.setValue(kSlurmKeys[i], values[i].trimmed());
}

}  // namespace

LaunchPanel::LaunchPanel(const QString& parmExecutable, QWidget* parent)
    : QWidget(parent),
      process_(new ParmProcess(parmExecutable, this)),
      action_(new QComboBox(this)),
      target_(new QComboBox(this)),
      targetName_(new QLineEdit(this)),
      slurmRow_(new QWidget(this)),
      slurmHost_(new QLineEdit(slurmRow_)),
      slurmRemoteParm_(new QLineEdit(slurmRow_)),
      slurmPartition_(new QLineEdit(slurmRow_)),
      slurmAccount_(new QLineEdit(slurmRow_)),
      slurmTime_(new QLineEdit(slurmRow_)),
      slurmJob_(new QLabel(this)),
      ranks_(new QLabel(this)),
      calibration_(new QLineEdit(this)),
      quick_(new QCheckBox(tr("Quick (3 sizes)"), this)),
      degree2_(new QCheckBox(tr("r = 2"), this)),
      degree4_(new QCheckBox(tr("r = 4"), this)),
      degree8_(new QCheckBox(tr("r = 8"), this)),
      hierarchical_(new QCheckBox(tr("2DH AlltoAll"), this)),
      store_(new QCheckBox(tr("Store in the project"), this)),
      start_(new QPushButton(tr("Start"), this)),
      cancel_(new QPushButton(tr("Cancel"), this)),
      command_(new QLineEdit(this)),
      copy_(new QPushButton(tr("Copy"), this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      log_(new QPlainTextEdit(this)) {
  for (ParmAction a :
       {ParmAction::Check, ParmAction::Calibrate, ParmAction::Predict, ParmAction::Run, ParmAction::Validate})
    action_->addItem(actionName(a), static_cast<int>(a));
  action_->setCurrentIndex(action_->findData(static_cast<int>(ParmAction::Run)));
  target_->addItem(tr("Local"), static_cast<int>(LaunchTarget::Local));
  target_->addItem(tr("Emulated cluster"), static_cast<int>(LaunchTarget::Cluster));
  target_->addItem(tr("Hostfile"), static_cast<int>(LaunchTarget::Hostfile));
  target_->addItem(tr("Slurm cluster"), static_cast<int>(LaunchTarget::Slurm));
  slurmHost_->setPlaceholderText(tr("empty: sbatch here"));
  slurmHost_->setToolTip(
      tr("Submits over ssh with your own keys and ~/.ssh/config (parm run --remote); the "
         "project must be on a folder the login host shares"));
  slurmRemoteParm_->setPlaceholderText(tr("on its PATH"));
  slurmPartition_->setPlaceholderText(tr("default"));
  slurmAccount_->setPlaceholderText(tr("default"));
  slurmTime_->setPlaceholderText(tr("minutes"));
  slurmTime_->setToolTip(
      tr("The job's time limit: minutes, or [D-]HH:MM:SS (empty: the partition's default)"));
  slurmJob_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  slurmJob_->setVisible(false);
  setSlurmTarget(storedSlurmTarget());
  ranks_->setToolTip(tr("parallel.ranks of the configuration: change it in the form"));
  quick_->setChecked(true);
  store_->setChecked(true);
  store_->setEnabled(false);
  command_->setReadOnly(true);
  command_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  log_->setReadOnly(true);
  log_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  log_->setMaximumBlockCount(20000);  // bounded memory for chatty runs
  log_->setLineWrapMode(QPlainTextEdit::NoWrap);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  progress_->setRange(0, 1);
  progress_->setValue(0);
  cancel_->setEnabled(false);
  // Names for tests and style sheets.
  const std::pair<QWidget*, const char*> names[] = {{action_, "action"},
                                                    {target_, "target"},
                                                    {targetName_, "targetName"},
                                                    {slurmRow_, "slurmRow"},
                                                    {slurmHost_, "slurmHost"},
                                                    {slurmRemoteParm_, "slurmRemoteParm"},
                                                    {slurmPartition_, "slurmPartition"},
                                                    {slurmAccount_, "slurmAccount"},
                                                    {slurmTime_, "slurmTime"},
                                                    {slurmJob_, "slurmJob"},
                                                    {ranks_, "ranks"},
                                                    {calibration_, "calibration"},
                                                    {start_, "start"},
                                                    {cancel_, "cancel"},
                                                    {command_, "commandLine"},
                                                    {copy_, "copy"},
                                                    {log_, "log"},
                                                    {status_, "status"},
                                                    {progress_, "progress"},
                                                    {store_, "storeInProject"},
                                                    {degree2_, "degree2"},
                                                    {degree4_, "degree4"},
                                                    {degree8_, "degree8"},
                                                    {hierarchical_, "hierarchical"}};
  for (const auto& [widget, name] : names) widget->setObjectName(name);

  auto* browseHostfile = new QPushButton(tr("Browse..."), this);
  auto* browseCalibration = new QPushButton(tr("Browse..."), this);
  browseHostfile->setObjectName("browseHostfile");
  browseCalibration->setObjectName("browseCalibration");
  connect(browseHostfile, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Hostfile"), targetName_->text());
    if (!path.isEmpty()) targetName_->setText(path);
  });
  connect(browseCalibration, &QPushButton::clicked, this, [this] {
    const bool writes = static_cast<ParmAction>(action_->currentData().toInt()) == ParmAction::Calibrate;
    const QString path = writes ? QFileDialog::getSaveFileName(this, tr("Calibration"), calibration_->text(),
                                                               tr("JSON (*.json)"))
                                : QFileDialog::getOpenFileName(this, tr("Calibration"), calibration_->text(),
                                                               tr("JSON (*.json)"));
    if (!path.isEmpty()) calibration_->setText(path);
  });

  auto* where = new QHBoxLayout;
  where->addWidget(target_);
  where->addWidget(targetName_, 1);
  where->addWidget(browseHostfile);
  auto* calibrationRow = new QHBoxLayout;
  calibrationRow->addWidget(calibration_, 1);
  calibrationRow->addWidget(browseCalibration);
  auto* form = new QFormLayout;
  form->addRow(tr("Action"), action_);
  form->addRow(tr("Where"), where);
  auto* slurmFields = new QHBoxLayout(slurmRow_);
  slurmFields->setContentsMargins(0, 0, 0, 0);
  // Each field named beside it: a filled field's placeholder is gone, and five bare values say nothing.
  const std::tuple<QString, QLineEdit*, int> slurmParts[] = {{tr("Login host"), slurmHost_, 3},
                                                             {tr("parm there"), slurmRemoteParm_, 3},
                                                             {tr("Partition"), slurmPartition_, 2},
                                                             {tr("Account"), slurmAccount_, 2},
                                                             {tr("Time"), slurmTime_, 1}};
  for (const auto& [label, field, stretch] : slurmParts) {
    auto* name = new QLabel(label, slurmRow_);
    name->setBuddy(field);
    slurmFields->addWidget(name);
    slurmFields->addWidget(field, stretch);
  }
  form->addRow(QString(), slurmRow_);
  form->addRow(tr("Ranks"), ranks_);
  form->addRow(tr("Calibration file"), calibrationRow);
  auto* options = new QHBoxLayout;
  options->addWidget(quick_);
  options->addWidget(store_);
  options->addStretch();
  form->addRow(QString(), options);
  // Beyond Parm (issue 19): each schedule also in r capacity chunks, and with a hierarchical AlltoAll.
  auto* space = new QHBoxLayout;
  for (QCheckBox* box : {degree2_, degree4_, degree8_, hierarchical_}) {
    space->addWidget(box);
    box->setToolTip(tr("predict / validate also select over this (--degrees, --alltoall)"));
  }
  space->addStretch();
  form->addRow(tr("Also select over"), space);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(cancel_);
  buttons->addWidget(progress_, 1);
  auto* commandRow = new QHBoxLayout;
  commandRow->addWidget(command_, 1);
  commandRow->addWidget(copy_);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(new QLabel(tr("Command line:"), this));
  layout->addLayout(commandRow);
  layout->addWidget(slurmJob_);
  layout->addWidget(status_);
  layout->addWidget(log_, 1);

  const auto changed = [this] { updateCommand(); };
  connect(action_, &QComboBox::currentIndexChanged, this, [this] {
    updateTargetWidgets();
    updateCommand();
  });
  connect(target_, &QComboBox::currentIndexChanged, this, [this] {
    updateTargetWidgets();
    updateCommand();
  });
  connect(targetName_, &QLineEdit::textChanged, this, changed);
  for (QLineEdit* field : {slurmHost_, slurmRemoteParm_, slurmPartition_, slurmAccount_, slurmTime_})
    connect(field, &QLineEdit::textChanged, this, changed);
  const auto followHost = [this] { slurmRemoteParm_->setEnabled(!slurmHost_->text().trimmed().isEmpty()); };
  connect(slurmHost_, &QLineEdit::textChanged, this, followHost);
  followHost();
  connect(calibration_, &QLineEdit::textChanged, this, changed);
  connect(quick_, &QCheckBox::toggled, this, changed);
  for (QCheckBox* box : {degree2_, degree4_, degree8_, hierarchical_})
    connect(box, &QCheckBox::toggled, this, changed);
  connect(store_, &QCheckBox::toggled, this, changed);
  connect(start_, &QPushButton::clicked, this, &LaunchPanel::start);
  connect(cancel_, &QPushButton::clicked, this, &LaunchPanel::cancel);
  connect(copy_, &QPushButton::clicked, this, &LaunchPanel::copyCommandLine);

  connect(process_, &ParmProcess::outputLine, this, &LaunchPanel::onOutputLine);
  connect(process_, &ParmProcess::progress, this, [this](int done, int total) {
    progress_->setRange(0, total);
    progress_->setValue(done);
  });
  connect(process_, &ParmProcess::finished, this, &LaunchPanel::onFinished);
  connect(process_, &ParmProcess::runAppeared, this, &LaunchPanel::runAppeared);
  updateTargetWidgets();
  updateCommand();
}

void LaunchPanel::setProject(Project* project) {
  if (project_) project_->disconnect(this);
  project_ = project;
  process_->setProject(project);
  const auto follow = [this] {
    const bool open = project_ && project_->isOpen();
    store_->setEnabled(open);
    if (open && calibration_->text().isEmpty())
      calibration_->setText(QFileInfo(project_->path()).dir().filePath("calibration.json"));
    updateCommand();
  };
  if (project_) {
    connect(project_, &Project::opened, this, follow);
    connect(project_, &Project::closed, this, follow);
  }
  follow();
}

void LaunchPanel::setParmExecutable(const QString& path) {
  process_->setExecutable(path);
  updateCommand();
}

ParmCommandSpec LaunchPanel::spec() const {
  ParmCommandSpec s;
  s.action = static_cast<ParmAction>(action_->currentData().toInt());
  s.target = static_cast<LaunchTarget>(target_->currentData().toInt());
  s.targetName = targetName_->text();
  s.slurm = {slurmHost_->text(), slurmPartition_->text(), slurmAccount_->text(), slurmTime_->text(),
             slurmRemoteParm_->text()};
  s.ranks = configRanks_;  // the configuration's, so the command line says what the form validated
  s.calibration = calibration_->text().trimmed();
  s.quick = quick_->isChecked();
  if (s.action == ParmAction::Predict || s.action == ParmAction::Validate) {
    for (auto [box, r] : {std::pair{degree2_, 2}, std::pair{degree4_, 4}, std::pair{degree8_, 8}})
      if (box->isChecked()) s.degrees << r;
    s.hierarchical = hierarchical_->isChecked();
  }
  if (project_ && project_->isOpen() && store_->isChecked()) s.dbPath = project_->path();
  return s;
}

void LaunchPanel::setAction(ParmAction action) {
  action_->setCurrentIndex(action_->findData(static_cast<int>(action)));
}

void LaunchPanel::setTarget(LaunchTarget target, const QString& nameOrFile) {
  target_->setCurrentIndex(target_->findData(static_cast<int>(target)));
  targetName_->setText(nameOrFile);
}

void LaunchPanel::setSlurmTarget(const SlurmTarget& slurm) {
  slurmHost_->setText(slurm.host);
  slurmPartition_->setText(slurm.partition);
  slurmAccount_->setText(slurm.account);
  slurmTime_->setText(slurm.timeLimit);
  slurmRemoteParm_->setText(slurm.remoteParm);
}

QString LaunchPanel::slurmJobText() const {
  return slurmJob_->text();
}

void LaunchPanel::setCalibrationFile(const QString& path) {
  calibration_->setText(path);
}

void LaunchPanel::setStoreInProject(bool store) {
  store_->setChecked(store);
}

QString LaunchPanel::commandLine() const {
  return command_->text();
}

QString LaunchPanel::statusText() const {
  return status_->text();
}

QString LaunchPanel::logText() const {
  return log_->toPlainText();
}

bool LaunchPanel::isRunning() const {
  return process_->isRunning();
}

void LaunchPanel::setConfigText(const QString& json) {
  if (json.isEmpty()) return setConfiguration(json, 0, {});
  const ConfigLoad load = config_from_json_text(json.toStdString());
  const std::vector<ConfigIssue> errors = load.issues.errors();
  setConfiguration(json, load.config ? load.config->parallel.ranks : 0,
                   errors.empty() ? QString() : QString::fromStdString(errors.front().line()));
}

void LaunchPanel::setConfiguration(const QString& json, int ranks, const QString& error) {
  configText_ = json;
  configRanks_ = ranks;
  configError_ = error;
  ranks_->setText(json.isEmpty() ? tr("from parm's default configuration")
                  : ranks > 0    ? tr("%1 (parallel.ranks of the configuration)").arg(ranks)
                                 : tr("- (the configuration does not parse)"));
  updateCommand();
}

bool LaunchPanel::canStart() const {
  return !isRunning() && configError_.isEmpty() && process_->command(spec(), !configText_.isEmpty()).ok();
}

void LaunchPanel::updateTargetWidgets() {
  const auto target = static_cast<LaunchTarget>(target_->currentData().toInt());
  const auto action = static_cast<ParmAction>(action_->currentData().toInt());
  targetName_->setVisible(target != LaunchTarget::Slurm);  // the Slurm row holds its own fields
  targetName_->setEnabled(target != LaunchTarget::Local);
  slurmRow_->setVisible(target == LaunchTarget::Slurm);
  targetName_->setPlaceholderText(target == LaunchTarget::Cluster
                                      ? tr("cluster name (parm cluster up --name)")
                                  : target == LaunchTarget::Hostfile ? tr("hostfile path")
                                                                     : QString());
  calibration_->setEnabled(action == ParmAction::Calibrate || action == ParmAction::Predict ||
                           action == ParmAction::Validate);
  calibration_->setPlaceholderText(action == ParmAction::Calibrate ? tr("where to write the fits")
                                                                   : tr("fits written by calibrate"));
  quick_->setEnabled(action == ParmAction::Calibrate);
  for (QCheckBox* box : {degree2_, degree4_, degree8_, hierarchical_})
    box->setEnabled(action == ParmAction::Predict || action == ParmAction::Validate);
  if (auto* b = findChild<QPushButton*>("browseHostfile")) b->setEnabled(target == LaunchTarget::Hostfile);
  if (auto* b = findChild<QPushButton*>("browseCalibration")) b->setEnabled(calibration_->isEnabled());
  ranks_->setEnabled(action != ParmAction::Check && action != ParmAction::Predict);
}

// The preview is exactly what start() runs: same builder, same config file path.
void LaunchPanel::updateCommand() {
  const ParmCommand cmd = process_->command(spec(), !configText_.isEmpty());
  const QString refusal = !configError_.isEmpty() ? tr("The configuration has errors: %1").arg(configError_)
                          : !cmd.ok()             ? cmd.error
                                                  : QString();
  if (cmd.ok())
    command_->setText(shellCommandLine(process_->executable(), cmd.args));
  else
    command_->clear();
  if (!isRunning()) setStatus(refusal, !refusal.isEmpty());
  start_->setEnabled(refusal.isEmpty() && !isRunning());
  start_->setToolTip(refusal.isEmpty() ? tr("Start: %1").arg(command_->text()) : refusal);
  copy_->setEnabled(cmd.ok());
}

void LaunchPanel::setStatus(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? QStringLiteral("color: #c02020") : QString());
}

bool LaunchPanel::start() {
  if (isRunning()) return false;
  if (!configError_.isEmpty()) {  // Start is disabled then; a programmatic start is refused the same way
    setStatus(tr("The configuration has errors: %1").arg(configError_), true);
    return false;
  }
  const ParmCommandSpec s = spec();
  // The UI shows "running" first: a launch that fails at once ends in onFinished, which undoes it.
  log_->clear();
  log_->appendPlainText(QStringLiteral("$ ") + commandLine());
  slurmJob_->clear();
  slurmJob_->setVisible(false);
  if (s.target == LaunchTarget::Slurm) storeSlurmTarget(s.slurm);
  // A Slurm job is cancelled by parm itself on SIGTERM (scancel, over ssh from a desktop): give it time.
  process_->setCancelGraceMs(s.target == LaunchTarget::Slurm ? 20000 : 2000);
  progress_->setRange(0, 0);  // busy until parm reports "[i/n]"
  start_->setEnabled(false);
  cancel_->setEnabled(true);
  setStatus(tr("Running parm %1...").arg(actionName(s.action)), false);
  if (!process_->start(s, configText_)) return false;
  emit started(process_->commandLine());
  return true;
}

void LaunchPanel::cancel() {
  if (!isRunning()) return;
  setStatus(tr("Cancelling..."), false);
  process_->cancel();
}

void LaunchPanel::copyCommandLine() {
  if (auto* clipboard = QGuiApplication::clipboard()) clipboard->setText(commandLine());
}

void LaunchPanel::onOutputLine(const QString& line, bool isStderr) {
  log_->appendPlainText(line);
  if (!isStderr) return;
  const std::optional<SlurmJobLine> job = parseSlurmJobLine(line);
  if (!job) return;
  slurmJob_->setText(job->text());
  slurmJob_->setVisible(true);
  emit slurmJobChanged(job->text());
}

void LaunchPanel::onFinished(bool ok, const QString& message) {
  progress_->setRange(0, 1);
  progress_->setValue(ok ? 1 : 0);
  cancel_->setEnabled(false);
  // A failure's message is parm's last stderr line, already in the log: it is not printed a second time.
  if (ok || message != process_->lastErrorLine()) log_->appendPlainText(message);
  updateCommand();
  setStatus(message, !ok);  // the outcome stays in the status line until the next edit or start
  emit finished(ok, message);
}

}  // namespace parm::app
