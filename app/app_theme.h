// The application's colour theme: the platform's own (System), or Qt's Fusion style with a light or a dark
// palette applied app-wide. The choice is remembered in QSettings ("view/theme") and restored at start.
#pragma once

#include <QPalette>
#include <QString>

namespace parm::app {

enum class Theme { System, Light, Dark };

QString themeName(Theme theme);  // "system", "light", "dark" (the QSettings value)
Theme themeFromName(const QString& name);

// Fusion's usual dark palette: every role set, disabled text dimmed, links and highlight in one blue (what
// Theme::Dark applies; tests' dark screenshots use it too).
QPalette darkPalette();

// Applies `theme` to the QApplication (style and palette) and remembers it.
void applyTheme(Theme theme);
Theme currentTheme();
// The remembered theme (System when none was chosen).
Theme savedTheme();

}  // namespace parm::app
