#!/usr/bin/env bash
# The README's screenshots (docs/*.png): the demo's project (scripts/demo.sh: a quick calibration and
# `parm validate` of the default preset on 4 ranks), opened in parm-studio with the side-by-side timeline, every
# page grabbed to docs/. Uses a real X server (xvfb-run) when there is one, else Qt's offscreen platform.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/demo/project.sqlite ]] || scripts/demo.sh
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
cmd=(build/app/parm-studio build/demo/project.sqlite --config default --side-by-side --screenshots docs)
if command -v xvfb-run >/dev/null; then
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" "${cmd[@]}"
else
  "${cmd[@]}"
fi
ls -l docs/*.png
