#!/usr/bin/env bash
# Runs the whole test suite: vet, every package's tests with the race
# detector, and a short run of each fuzz target. Installs what the tests
# need when it is missing, so it works on a fresh Debian machine. Ends with
# the node tests of the browser client's JavaScript (static/test/).
set -euo pipefail
cd "$(dirname "$0")/.."

# Go and gcc (cgo, for SQLite) are on the machine; make sure go is on PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="$PATH:/usr/local/go/bin"
fi
need_apt=()
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
# Tests that need Redis start their own redis-server (see redistest).
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# The PostgreSQL event store's tests start their own server (pgtest), from
# initdb/postgres on PATH, in /usr/local/bin or Debian's
# /usr/lib/postgresql/<version>/bin; under CI they fail rather than skip
# without them.
if ! command -v initdb >/dev/null 2>&1 && [ ! -x /usr/local/bin/initdb ] &&
  ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_apt+=(postgresql)
fi
# The event log's fault tests mount a tmpfs and a frozen ext4 image
# (internal/mounttest); under CI they fail rather than skip without these.
command -v mkfs.ext4 >/dev/null 2>&1 || need_apt+=(e2fsprogs)
command -v fsfreeze >/dev/null 2>&1 || need_apt+=(util-linux)
# The browser OT type (static/ot.js) is tested with node --test.
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
# The browser tests (e2e/) drive Debian's Chromium through chromedp; under
# CI they fail rather than skip when it is missing.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
export CGO_ENABLED=1

echo "== go vet"
go vet ./...

# The packages that run the real server (servertest) share one build of
# it, cached across runs under a hash of its sources ($SERVERTEST_CACHE;
# "off" builds it in each package instead). The slowest packages come
# first: go test starts the packages' tests in the order given, as many
# at once as there are cores, so the minute-long soak (mostly waiting)
# runs beside the others rather than after them.
echo "== go test -race"
go test -race -count=1 -timeout 15m ./soak ./hub ./e2e ./eventlog ./cmd/server ./...

# Each fuzz target for a few seconds beyond its seed corpus (which the run
# above already replayed). FUZZTIME=0 skips this step.
fuzztime="${FUZZTIME:-5s}"
if [ "$fuzztime" != "0" ]; then
  echo "== fuzz ($fuzztime each)"
  for pkg in ./document ./protocol; do
    for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
      go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/dev/null
      echo "ok   fuzz $pkg $target"
    done
  done
fi
# static/ot.js must reproduce the Go OT type on every case of
# document/testdata/crosslang.json (checked against Go by the Go tests above);
# the rest are unit tests of the browser client's state machine, textarea
# binding, undo, socket and page helpers.
echo "== node --test static/test/"
node --test static/test/

# The package's TypeScript declarations (static/*.d.ts), checked with a
# pinned TypeScript against a usage file (installed with npm ci once).
echo "== types"
./scripts/typecheck.sh

echo "== all tests passed"
