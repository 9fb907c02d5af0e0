#!/usr/bin/env bash
# Type-checks the package's declarations (static/index.d.ts,
# static/codemirror.d.ts) with a pinned TypeScript: scripts/typecheck/usage.ts
# uses the API as an app would and must check, and its @ts-expect-error
# lines must be refused. Installs the pinned packages with npm ci the first
# time (scripts/typecheck/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/typecheck"
if [ ! -x node_modules/.bin/tsc ]; then
  npm ci --no-audit --no-fund --ignore-scripts >/dev/null
fi
node_modules/.bin/tsc -p tsconfig.json
echo "ok   types (static/index.d.ts, static/codemirror.d.ts)"
