// Configuration page: a form (layer, parallel layout, schedules, run) and the JSON text, kept in sync both
// ways, validated live by the engine as the user types. Each field shows the engine's own messages next to
// it; the derived sizes and the bytes per collective of each selected schedule are tables beside it.
#pragma once

#include <QHash>
#include <QWidget>
#include <optional>

#include "engine/core/config.h"

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QSplitter;
class QTableView;
class QTimer;

namespace parm::app {

class CollectiveVolumesModel;
class ConfigIssuesModel;
class DerivedSizesModel;

class ConfigPage : public QWidget {
  Q_OBJECT
 public:
  explicit ConfigPage(QWidget* parent = nullptr);

  QString configText() const;
  // Replaces the JSON text and validates at once (no debounce); the form follows. A text with a line longer
  // than kMaxEditableLine is validated but not put into the editor (laying out a 1 MB line froze the GUI):
  // the editor then says so and is read-only until other text is set.
  void setConfigText(const QString& text);
  // Reads a configuration file through the engine's reader (directories, missing, oversized files refused)
  // and shows it; returns the one line to show in the message bar when it cannot be read or is not a
  // configuration the engine can parse, else an empty string.
  QString loadConfigFile(const QString& path);
  // QPlainTextEdit lays a line out in time quadratic in its length: 16 KiB takes ~70 ms, 64 KiB ~0.7 s,
  // 1 MB did not finish in a minute.
  static constexpr qsizetype kMaxEditableLine = 16 * 1024;
  bool textTooLongToEdit() const { return oversized_.has_value(); }
  // Loads an embedded preset ("default", "tc1", ...); false when there is none of that name.
  bool loadPreset(const QString& name);
  static QStringList presetNames();

  bool isValid() const { return valid_; }
  // The first error line the page shows ("error: parallel.mp = 3: ..."), empty when there is none.
  QString firstError() const;
  // True once the user edited the text or the form (or picked a preset) since the text was last set by the
  // program (setConfigText, loadConfigFile, loadPreset) or markSaved().
  bool hasUnsavedEdits() const { return edited_; }
  void markSaved() { edited_ = false; }
  // The configuration as the engine parsed it (set even with validation errors, unset on parse/type errors).
  const std::optional<Config>& parsedConfig() const { return parsed_; }

  // The form's editor of a dotted field ("parallel.mp", "run.schedules", "layer.activation") and the
  // engine messages shown next to it (empty when none).
  QWidget* fieldEditor(const QString& field) const;
  QString fieldMessage(const QString& field) const;
  static QStringList formFields();

  ConfigIssuesModel* issuesModel() const { return issues_; }
  DerivedSizesModel* sizesModel() const { return sizes_; }
  CollectiveVolumesModel* volumesModel() const { return volumes_; }

  // Splitter positions, for the main window's QSettings.
  QByteArray saveLayout() const;
  void restoreLayout(const QByteArray& state);

 public slots:
  void revalidate();  // runs the pending (debounced) validation now

 signals:
  void validityChanged(bool valid);
  // After every validation: the text that was validated (what a launch should run).
  void configTextChanged(const QString& text);

 private:
  void buildForm(QWidget* form);
  void formEdited(const QString& field);
  void updateForm();
  void updateMessages();

  QComboBox* presets_;
  QPlainTextEdit* editor_;
  QTableView* issuesView_;
  QLabel* generalMessages_;
  QSplitter* split_;
  QSplitter* right_;
  QTimer* debounce_;
  ConfigIssuesModel* issues_;
  DerivedSizesModel* sizes_;
  CollectiveVolumesModel* volumes_;
  QHash<QString, QWidget*> editors_;
  QHash<QString, QLabel*> messages_;
  std::optional<Config> parsed_;
  Config lastParsed_;                 // what a form edit starts from when the text does not parse
  std::optional<QString> oversized_;  // the text when it is too long to edit (the editor shows a notice)
  bool valid_ = false;
  bool edited_ = false;
};

}  // namespace parm::app
