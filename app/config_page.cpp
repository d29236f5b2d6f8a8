#include "app/config_page.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "app/models/config_issues_model.h"
#include "engine/config_json.h"
#include "engine/sizes.h"
#include "resources/presets.h"

namespace parm::app {

ConfigPage::ConfigPage(QWidget* parent)
    : QWidget(parent),
      presets_(new QComboBox(this)),
      editor_(new QPlainTextEdit(this)),
      issuesView_(new QTableView(this)),
      sizes_(new QLabel(this)),
      debounce_(new QTimer(this)),
      issues_(new ConfigIssuesModel(this)) {
  for (auto name : resources::embedded_preset_names())
    presets_->addItem(QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size())));
  editor_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  issuesView_->setModel(issues_);
  issuesView_->horizontalHeader()->setStretchLastSection(true);
  issuesView_->verticalHeader()->hide();
  sizes_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  sizes_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  sizes_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Preset:"), this));
  top->addWidget(presets_);
  top->addStretch();

  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(sizes_);
  right->addWidget(issuesView_);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(editor_);
  split->addWidget(right);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(split);

  debounce_->setSingleShot(true);
  debounce_->setInterval(150);
  connect(debounce_, &QTimer::timeout, this, &ConfigPage::revalidate);
  connect(editor_, &QPlainTextEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(presets_, &QComboBox::currentTextChanged, this, &ConfigPage::loadPreset);
  loadPreset(presets_->currentText());
}

QString ConfigPage::configText() const {
  return editor_->toPlainText();
}

void ConfigPage::setConfigText(const QString& text) {
  editor_->setPlainText(text);
  revalidate();
}

void ConfigPage::loadPreset(const QString& name) {
  if (auto text = resources::embedded_preset(name.toStdString()))
    setConfigText(QString::fromUtf8(text->data(), static_cast<qsizetype>(text->size())));
}

void ConfigPage::revalidate() {
  const ConfigLoad load = config_from_json_text(editor_->toPlainText().toStdString());
  issues_->setIssues(load.issues);
  if (load.ok()) {
    const DerivedSizes d = derive_sizes(*load.config);
    sizes_->setText(tr("S  = %1 tokens per MP group\nN_MP = %2   N_ESP = %3   N_EP = %4   nodes = %5\n"
                       "C0 = %6   C1 = %7   C2 = %8\nD0 = %9   D1 = %10   D2 = %11 elements")
                        .arg(d.S)
                        .arg(d.N)
                        .arg(d.n_esp)
                        .arg(d.n_ep)
                        .arg(d.nodes)
                        .arg(d.C0)
                        .arg(d.C1)
                        .arg(d.C2)
                        .arg(d.D0)
                        .arg(d.D1)
                        .arg(d.D2));
  } else {
    sizes_->setText(tr("Derived sizes appear when the configuration is valid."));
  }
  emit validityChanged(load.ok());
}

}  // namespace parm::app
