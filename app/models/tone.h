// How a cell's text stands out, carried as data so the models need Qt Core only: the views' ToneDelegate
// (app/tone_delegate.h) turns a tone into the text colour.
#pragma once

#include <Qt>

namespace parm::app {

enum class Tone { Normal, Warning, Error };

// The role every model of app/models answers with a Tone (as int) where a cell stands out; shared by all of
// them so one delegate serves every view. Far above the models' own UserRole + n roles.
inline constexpr int ToneRole = Qt::UserRole + 0x100;

}  // namespace parm::app
