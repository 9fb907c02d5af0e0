#!/usr/bin/env bash
# Rebuilds static/vendor/codemirror/ from the pinned npm packages in
# scripts/vendor-codemirror/package-lock.json: CodeMirror 6 as three ES
# modules with ONE copy of @codemirror/state (an editor breaks when two
# copies meet: instanceof checks fail), used by the CodeMirror example page
# and its Chromium test. The collab client's codemirror.js imports the
# bare specifiers "@codemirror/state" and "@codemirror/view"; the example
# page maps them to these files with an import map.
#
#   state.js   @codemirror/state
#   view.js    @codemirror/view              (imports ./state.js)
#   setup.js   codemirror's basicSetup and minimalSetup, @codemirror/commands'
#              undo/redo, @codemirror/lang-markdown's markdown()
#                                             (imports ./state.js, ./view.js)
#   LICENSE.txt  the licences of every package bundled into them
#
# To update: change the versions in scripts/vendor-codemirror/package.json,
# run `npm install` there (updates the lock file), run this script, and
# change the versions in the README. Needs node and npm (the npm registry).
set -euo pipefail
cd "$(dirname "$0")/vendor-codemirror"
npm ci --no-audit --no-fund --ignore-scripts >/dev/null
out=../../static/vendor/codemirror
rm -rf "$out"
mkdir -p "$out"
cat > entry-setup.js <<'JS'
export { basicSetup, minimalSetup } from 'codemirror';
export { undo, redo, history, defaultKeymap, historyKeymap } from '@codemirror/commands';
export { markdown } from '@codemirror/lang-markdown';
JS
esb=(./node_modules/.bin/esbuild --bundle --format=esm --target=es2020 --legal-comments=none --log-level=warning)
"${esb[@]}" node_modules/@codemirror/state/dist/index.js --outfile="$out/state.js"
"${esb[@]}" node_modules/@codemirror/view/dist/index.js --external:@codemirror/state --outfile="$out/view.js"
"${esb[@]}" entry-setup.js --external:@codemirror/state --external:@codemirror/view --outfile="$out/setup.js"
rm entry-setup.js
# The bundles import each other by relative path, so that they also work
# without an import map for anything but the page's own bare imports.
sed -i 's#from "@codemirror/state"#from "./state.js"#g; s#from "@codemirror/view"#from "./view.js"#g' "$out/view.js" "$out/setup.js"
if grep -q 'from "@codemirror/' "$out/view.js" "$out/setup.js"; then
  echo "a bare CodeMirror import is left in the bundles" >&2
  exit 1
fi
# Licences of everything bundled (all MIT).
{
  echo "static/vendor/codemirror/ bundles these npm packages (versions as installed"
  echo "from scripts/vendor-codemirror/package-lock.json); their licences follow."
  echo
  for pj in $(find node_modules -name package.json -path '*node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*' | sort); do
    dir=$(dirname "$pj")
    name=$(node -p "require('./$pj').name")
    case "$name" in esbuild|@esbuild/*) continue ;; esac
    ver=$(node -p "require('./$pj').version")
    lic=$(ls "$dir" | grep -i -m1 '^licen[sc]e' || true)
    echo "==== $name $ver ($(node -p "require('./$pj').license"))"
    if [ -n "$lic" ]; then cat "$dir/$lic"; fi
    echo
  done
} > "$out/LICENSE.txt"
wc -c "$out"/*
