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
#
# A finding always writes its input to testdata/fuzz/<target>/ and fails.
# Go's fuzzing engine can also fail without a finding, e.g. when -fuzztime
# runs out while a starved worker is mid-call (golang/go#51484, #56238);
# on 2 cores a fresh corpus spends 10-25 s at a time minimising, so the
# 5 s deadline often lands there. Such a run is printed (never thrown
# away: the output is what tells the two apart) and tried once more, and
# fails the suite if it fails again.
fuzztime="${FUZZTIME:-5s}"
fuzz_once() { # pkg target log
  go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" "$1" >"$3" 2>&1
}
if [ "$fuzztime" != "0" ]; then
  echo "== fuzz ($fuzztime each)"
  fuzzlog="$(mktemp)"
  trap 'rm -f "$fuzzlog"' EXIT
  for pkg in ./document ./protocol; do
    for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
      if fuzz_once "$pkg" "$target" "$fuzzlog"; then
        echo "ok   fuzz $pkg $target"
        continue
      fi
      cat "$fuzzlog"
      if grep -q 'Failing input written to' "$fuzzlog"; then
        # CI keeps nothing but this output, so print the input itself.
        for f in $(git ls-files --others -- "$pkg/testdata/fuzz/$target"); do
          echo "--- $f"; cat "$f"
        done
        echo "FAIL fuzz $pkg $target: a finding (input above)"
        exit 1
      fi
      echo "again fuzz $pkg $target: failed without a finding"
      if ! fuzz_once "$pkg" "$target" "$fuzzlog"; then
        cat "$fuzzlog"
        echo "FAIL fuzz $pkg $target"
        exit 1
      fi
      echo "ok   fuzz $pkg $target (second run)"
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
