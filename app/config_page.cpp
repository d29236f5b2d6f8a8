#include "app/config_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDataStream>
#include <QDoubleSpinBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "app/models/collective_volumes_model.h"
#include "app/models/config_issues_model.h"
#include "app/models/derived_sizes_model.h"
#include "app/tone_delegate.h"
#include "engine/core/config_json.h"
#include "engine/core/json_input.h"
#include "resources/presets.h"

namespace parm::app {

namespace {

using Json = nlohmann::ordered_json;  // keeps the user's key order when the form rewrites the text

QString qs(std::string_view s) {
  return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

enum class Kind { Int, Double, Bool, Choice, Text, Schedules };

struct FieldSpec {
  const char* path;
  const char* label;
  Kind kind;
};

// The fields the form edits; everything else (seed, description, ...) stays in the JSON text only.
constexpr FieldSpec kFields[] = {
    {"name", "Name", Kind::Text},
    {"layer.batch", "Batch B", Kind::Int},
    {"layer.seq_len", "Sequence length L", Kind::Int},
    {"layer.hidden", "Hidden M", Kind::Int},
    {"layer.ffn_hidden", "FFN hidden H", Kind::Int},
    {"layer.num_experts", "Experts E", Kind::Int},
    {"layer.top_k", "Top-k", Kind::Int},
    {"layer.capacity_factor", "Capacity factor f", Kind::Double},
    {"layer.min_capacity", "Min capacity", Kind::Int},
    {"layer.capacity_rounding", "Capacity rounding", Kind::Choice},
    {"layer.drop_tokens", "Drop tokens", Kind::Bool},
    {"layer.activation", "Activation", Kind::Choice},
    {"layer.bias", "Bias", Kind::Bool},
    {"layer.dtype", "Data type", Kind::Choice},
    {"parallel.ranks", "Ranks P", Kind::Int},
    {"parallel.gpus_per_node", "GPUs per node G", Kind::Int},
    {"parallel.mp", "MP degree N_MP", Kind::Int},
    {"parallel.esp", "ESP degree N_ESP", Kind::Int},
    {"run.schedules", "Schedules", Kind::Schedules},
    {"run.warmup", "Warm-up iterations", Kind::Int},
    {"run.iterations", "Measured iterations", Kind::Int},
    {"run.backend", "Backend", Kind::Choice},
};

const FieldSpec* spec(const QString& path) {
  for (const FieldSpec& f : kFields)
    if (path == QLatin1String(f.path)) return &f;
  return nullptr;
}

QStringList choices(const QString& path) {
  QStringList out;
  if (path == "layer.activation")
    for (Activation a : {Activation::Gelu, Activation::Swiglu}) out << qs(to_string(a));
  if (path == "layer.capacity_rounding")
    for (CapacityRounding r : {CapacityRounding::Exact, CapacityRounding::DeepSpeed}) out << qs(to_string(r));
  if (path == "layer.dtype")
    for (DType d : {DType::Fp32, DType::Fp64, DType::Bf16, DType::Fp16}) out << qs(to_string(d));
  if (path == "run.backend")
    for (Backend b : {Backend::Cpu, Backend::Cuda, Backend::CudaMpi}) out << qs(to_string(b));
  return out;
}

// The value the engine parsed for `path`, as the form's editor holds it.
QVariant configValue(const Config& c, const QString& path) {
  const LayerConfig& l = c.layer;
  const ParallelConfig& p = c.parallel;
  if (path == "name") return QString::fromStdString(c.name);
  if (path == "layer.batch") return qlonglong(l.batch);
  if (path == "layer.seq_len") return qlonglong(l.seq_len);
  if (path == "layer.hidden") return qlonglong(l.hidden);
  if (path == "layer.ffn_hidden") return qlonglong(l.ffn_hidden);
  if (path == "layer.num_experts") return qlonglong(l.num_experts);
  if (path == "layer.top_k") return qlonglong(l.top_k);
  if (path == "layer.capacity_factor") return l.capacity_factor;
  if (path == "layer.min_capacity") return qlonglong(l.min_capacity);
  if (path == "layer.capacity_rounding") return qs(to_string(l.capacity_rounding));
  if (path == "layer.drop_tokens") return l.drop_tokens;
  if (path == "layer.activation") return qs(to_string(l.activation));
  if (path == "layer.bias") return l.bias;
  if (path == "layer.dtype") return qs(to_string(l.dtype));
  if (path == "parallel.ranks") return qlonglong(p.ranks);
  if (path == "parallel.gpus_per_node") return qlonglong(p.gpus_per_node);
  if (path == "parallel.mp") return qlonglong(p.mp);
  if (path == "parallel.esp") return qlonglong(p.esp);
  if (path == "run.warmup") return qlonglong(c.run.warmup);
  if (path == "run.iterations") return qlonglong(c.run.iterations);
  if (path == "run.backend") return qs(to_string(c.run.backend));
  if (path == "run.schedules") {
    QStringList names;
    for (ScheduleKind s : c.run.schedules) names << qs(to_string(s));
    return names;
  }
  return {};
}

}  // namespace

ConfigPage::ConfigPage(QWidget* parent)
    : QWidget(parent),
      presets_(new QComboBox(this)),
      editor_(new QPlainTextEdit(this)),
      issuesView_(new QTableView(this)),
      generalMessages_(new QLabel(this)),
      split_(new QSplitter(Qt::Horizontal, this)),
      right_(new QSplitter(Qt::Vertical, this)),
      debounce_(new QTimer(this)),
      issues_(new ConfigIssuesModel(this)),
      sizes_(new DerivedSizesModel(this)),
      volumes_(new CollectiveVolumesModel(this)) {
  presets_->addItems(presetNames());
  editor_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  editor_->setObjectName("configJson");
  issuesView_->setModel(issues_);
  issuesView_->setItemDelegate(new ToneDelegate(issuesView_));
  issuesView_->horizontalHeader()->setStretchLastSection(true);
  issuesView_->verticalHeader()->hide();
  generalMessages_->setObjectName("generalMessages");
  generalMessages_->setWordWrap(true);
  generalMessages_->setStyleSheet("color: #c02020");
  generalMessages_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  generalMessages_->hide();

  auto* form = new QWidget;
  buildForm(form);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(form);
  scroll->setWidgetResizable(true);

  const auto table = [this](QAbstractItemModel* model) {
    auto* view = new QTableView(this);
    view->setModel(model);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setStretchLastSection(true);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    return view;
  };
  auto* derived = new QTabWidget(this);
  derived->addTab(table(sizes_), tr("Derived sizes"));
  derived->addTab(table(volumes_), tr("Bytes per collective"));

  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Preset:"), this));
  top->addWidget(presets_);
  top->addStretch();

  right_->addWidget(derived);
  right_->addWidget(issuesView_);
  right_->setStretchFactor(0, 3);
  right_->setStretchFactor(1, 1);
  split_->addWidget(scroll);
  split_->addWidget(editor_);
  split_->addWidget(right_);
  split_->setStretchFactor(0, 2);
  split_->setStretchFactor(1, 2);
  split_->setStretchFactor(2, 3);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(generalMessages_);
  layout->addWidget(split_);

  debounce_->setSingleShot(true);
  debounce_->setInterval(150);
  connect(debounce_, &QTimer::timeout, this, &ConfigPage::revalidate);
  connect(editor_, &QPlainTextEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(editor_, &QPlainTextEdit::textChanged, this, [this] { edited_ = true; });
  connect(presets_, &QComboBox::textActivated, this, [this](const QString& name) {
    loadPreset(name);
    edited_ = true;  // the user's choice: a selected run does not replace it
  });
  loadPreset(presets_->currentText());
}

QStringList ConfigPage::presetNames() {
  QStringList names;
  for (auto name : resources::embedded_preset_names()) names << qs(name);
  return names;
}

QStringList ConfigPage::formFields() {
  QStringList out;
  for (const FieldSpec& f : kFields) out << QLatin1String(f.path);
  return out;
}

void ConfigPage::buildForm(QWidget* form) {
  auto* layout = new QFormLayout(form);
  layout->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  QString section;
  for (const FieldSpec& f : kFields) {
    const QString path = QLatin1String(f.path);
    const QString head = path.section(u'.', 0, 0);
    if (path.contains(u'.') && head != section) {
      section = head;
      auto* title = new QLabel(QStringLiteral("<b>%1</b>").arg(head), form);
      layout->addRow(title);
    }
    QWidget* editor = nullptr;
    switch (f.kind) {
      case Kind::Int: {
        auto* spin = new QSpinBox(form);
        spin->setRange(0, 1 << 30);  // 0 and odd values are allowed: the engine says what is wrong
        connect(spin, &QSpinBox::valueChanged, this, [this, path] { formEdited(path); });
        editor = spin;
        break;
      }
      case Kind::Double: {
        auto* spin = new QDoubleSpinBox(form);
        spin->setRange(0, 1000);
        spin->setDecimals(3);
        spin->setSingleStep(0.1);
        connect(spin, &QDoubleSpinBox::valueChanged, this, [this, path] { formEdited(path); });
        editor = spin;
        break;
      }
      case Kind::Bool: {
        auto* box = new QCheckBox(form);
        connect(box, &QCheckBox::toggled, this, [this, path] { formEdited(path); });
        editor = box;
        break;
      }
      case Kind::Choice: {
        auto* combo = new QComboBox(form);
        combo->addItems(choices(path));
        connect(combo, &QComboBox::activated, this, [this, path] { formEdited(path); });
        editor = combo;
        break;
      }
      case Kind::Text: {
        auto* line = new QLineEdit(form);
        connect(line, &QLineEdit::textEdited, this, [this, path] { formEdited(path); });
        editor = line;
        break;
      }
      case Kind::Schedules: {
        editor = new QWidget(form);
        auto* row = new QHBoxLayout(editor);
        row->setContentsMargins(0, 0, 0, 0);
        for (ScheduleKind s : all_schedules()) {
          auto* box = new QCheckBox(qs(to_string(s)), editor);
          box->setObjectName(qs(to_string(s)));
          row->addWidget(box);
          connect(box, &QCheckBox::toggled, this, [this, path] { formEdited(path); });
        }
        row->addStretch();
        break;
      }
    }
    editor->setObjectName(path);
    auto* message = new QLabel(form);
    message->setObjectName(path + ":message");
    message->setWordWrap(true);
    message->setStyleSheet("color: #c02020");
    message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message->hide();
    auto* cell = new QWidget(form);
    auto* box = new QVBoxLayout(cell);
    box->setContentsMargins(0, 0, 0, 0);
    box->setSpacing(1);
    box->addWidget(editor);
    box->addWidget(message);
    layout->addRow(tr(f.label), cell);
    editors_.insert(path, editor);
    messages_.insert(path, message);
  }
}

QWidget* ConfigPage::fieldEditor(const QString& field) const {
  return editors_.value(field);
}

QString ConfigPage::fieldMessage(const QString& field) const {
  const QLabel* label = messages_.value(field);
  return label ? label->text() : QString();
}

namespace {

qsizetype longestLine(const QString& text) {
  qsizetype longest = 0, start = 0;
  for (qsizetype i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == u'\n') {
      longest = std::max(longest, i - start);
      start = i + 1;
    }
  }
  return longest;
}

}  // namespace

QString ConfigPage::configText() const {
  return oversized_ ? *oversized_ : editor_->toPlainText();
}

void ConfigPage::setConfigText(const QString& text) {
  const qsizetype longest = longestLine(text);
  const QSignalBlocker block(editor_);  // validated below, at once
  if (longest > kMaxEditableLine) {
    oversized_ = text;
    editor_->setPlainText(tr("This text has a line of %L1 characters, too long to edit here (at most %L2).\n"
                             "The messages say what the engine found; load a preset or open another file.")
                              .arg(longest)
                              .arg(kMaxEditableLine));
    editor_->setReadOnly(true);
  } else {
    oversized_.reset();
    editor_->setReadOnly(false);
    editor_->setPlainText(text);
  }
  edited_ = false;
  revalidate();
}

QString ConfigPage::loadConfigFile(const QString& path) {
  std::string error;
  const auto bytes = read_text_file(path.toStdString(), JsonLimits{}.max_file_bytes, error);
  if (!bytes) return QString::fromStdString(error);
  setConfigText(QString::fromUtf8(bytes->data(), static_cast<qsizetype>(bytes->size())));
  // The file's own bytes decide (the editor's text is their UTF-8 decoding, invalid bytes replaced).
  const JsonDocument doc = parse_json_text(*bytes, path.toStdString());
  if (!doc.ok()) return QString::fromStdString(doc.error);
  return {};
}

bool ConfigPage::loadPreset(const QString& name) {
  const auto text = resources::embedded_preset(name.toStdString());
  if (!text) return false;
  if (presets_->currentText() != name) presets_->setCurrentText(name);
  setConfigText(qs(*text));
  return true;
}

// The form changed one field: write it into the JSON (keeping every other key and the key order).
void ConfigPage::formEdited(const QString& field) {
  const FieldSpec* f = spec(field);
  QWidget* editor = editors_.value(field);
  if (!f || !editor) return;
  // The engine's reader first: nlohmann alone would recurse into 100k-level nesting or keep a duplicate key.
  const std::string text = configText().toStdString();
  Json doc =
      parse_json_text(text, "config").ok() ? Json::parse(text, nullptr, /*allow_exceptions=*/false) : Json();
  if (!doc.is_object())  // unparsable text: start over from what the engine last understood
    doc = Json::parse(config_to_json(lastParsed_).dump());
  Json* node = &doc;
  const QStringList parts = field.split(u'.');
  for (qsizetype i = 0; i + 1 < parts.size(); ++i) {
    Json& child = (*node)[parts[i].toStdString()];
    if (!child.is_object()) child = Json::object();
    node = &child;
  }
  Json& value = (*node)[parts.back().toStdString()];
  switch (f->kind) {
    case Kind::Int:
      value = static_cast<std::int64_t>(static_cast<QSpinBox*>(editor)->value());
      break;
    case Kind::Double:
      value = static_cast<QDoubleSpinBox*>(editor)->value();
      break;
    case Kind::Bool:
      value = static_cast<QCheckBox*>(editor)->isChecked();
      break;
    case Kind::Choice:
      value = static_cast<QComboBox*>(editor)->currentText().toStdString();
      break;
    case Kind::Text:
      value = static_cast<QLineEdit*>(editor)->text().toStdString();
      break;
    case Kind::Schedules: {
      // Names without a box (pipelined variants such as "S1r4", typed in the text) stay where they were.
      Json kept = Json::array();
      if (value.is_array())
        for (const Json& item : value)
          if (!item.is_string() ||
              !editor->findChild<QCheckBox*>(QString::fromStdString(item.get<std::string>())))
            kept.push_back(item);
      value = Json::array();
      for (ScheduleKind s : all_schedules())
        if (auto* box = editor->findChild<QCheckBox*>(qs(to_string(s))); box && box->isChecked())
          value.push_back(std::string(to_string(s)));
      for (const Json& item : kept) value.push_back(item);
      break;
    }
  }
  const QString rewritten = QString::fromStdString(doc.dump(2));
  if (oversized_ || longestLine(rewritten) > kMaxEditableLine) {
    setConfigText(rewritten);
    edited_ = true;
    return;
  }
  editor_->setPlainText(rewritten);
  debounce_->start();
}

void ConfigPage::revalidate() {
  debounce_->stop();
  const QString text = configText();
  const ConfigLoad load = config_from_json_text(text.toStdString());
  parsed_ = load.config;
  if (parsed_) lastParsed_ = *parsed_;
  valid_ = load.ok();
  issues_->setIssues(load.issues);
  const std::optional<Config> valid = valid_ ? load.config : std::nullopt;
  sizes_->setConfig(valid);
  volumes_->setConfig(valid);
  updateForm();
  updateMessages();
  emit validityChanged(valid_);
  emit configTextChanged(text);
}

// The JSON changed: show what the engine parsed in the form, without echoing the edits back into the text.
void ConfigPage::updateForm() {
  if (!parsed_) return;  // parse/type errors: the form keeps its values, the messages say what is wrong
  for (const FieldSpec& f : kFields) {
    const QString path = QLatin1String(f.path);
    QWidget* editor = editors_.value(path);
    const QVariant v = configValue(*parsed_, path);
    const QSignalBlocker block(editor);
    switch (f.kind) {
      case Kind::Int: {
        auto* spin = static_cast<QSpinBox*>(editor);
        if (spin->value() != v.toLongLong()) spin->setValue(static_cast<int>(v.toLongLong()));
        break;
      }
      case Kind::Double: {
        auto* spin = static_cast<QDoubleSpinBox*>(editor);
        if (spin->value() != v.toDouble()) spin->setValue(v.toDouble());
        break;
      }
      case Kind::Bool:
        static_cast<QCheckBox*>(editor)->setChecked(v.toBool());
        break;
      case Kind::Choice:
        static_cast<QComboBox*>(editor)->setCurrentText(v.toString());
        break;
      case Kind::Text:
        if (auto* line = static_cast<QLineEdit*>(editor); line->text() != v.toString())
          line->setText(v.toString());
        break;
      case Kind::Schedules: {
        const QStringList on = v.toStringList();
        for (auto* box : editor->findChildren<QCheckBox*>()) {
          const QSignalBlocker blockBox(box);
          box->setChecked(on.contains(box->objectName()));
        }
        break;
      }
    }
  }
}

// Each engine message goes next to the field it names; the rest (JSON syntax, unknown keys) above the form.
void ConfigPage::updateMessages() {
  QStringList general;
  for (int r = 0; r < issues_->rowCount(); ++r) {
    const QString field = issues_->index(r, 0).data(ConfigIssuesModel::FieldRole).toString();
    bool placed = false;
    for (auto it = messages_.cbegin(); it != messages_.cend() && !placed; ++it)
      placed = ConfigIssuesModel::concerns(field, it.key());
    if (!placed) general << issues_->index(r, 0).data(Qt::ToolTipRole).toString();
  }
  for (auto it = messages_.cbegin(); it != messages_.cend(); ++it) {
    const QString text = issues_->messagesFor(it.key());
    it.value()->setText(text);
    it.value()->setVisible(!text.isEmpty());
    editors_.value(it.key())->setToolTip(text);
  }
  generalMessages_->setText(general.join(u'\n'));
  generalMessages_->setVisible(!general.isEmpty());
}

QString ConfigPage::firstError() const {
  for (int r = 0; r < issues_->rowCount(); ++r)
    if (const QModelIndex i = issues_->index(r, 0); i.data(ConfigIssuesModel::IsErrorRole).toBool())
      return i.data(Qt::ToolTipRole).toString();
  return {};
}

QByteArray ConfigPage::saveLayout() const {
  QByteArray out;
  QDataStream s(&out, QIODevice::WriteOnly);
  s << split_->saveState() << right_->saveState();
  return out;
}

void ConfigPage::restoreLayout(const QByteArray& state) {
  QDataStream s(state);
  QByteArray a, b;
  s >> a >> b;
  if (s.status() != QDataStream::Ok) return;
  split_->restoreState(a);
  right_->restoreState(b);
}

}  // namespace parm::app
