// Package e2e holds the end-to-end tests of the browser client: real
// headless Chromium pages, driven from Go with chromedp over the DevTools
// protocol, editing documents on a real server (hub, SQLite event log,
// catalog and the embedded client) started in process on loopback.
//
// Each page reaches the server through its own TCP proxy, which a test can
// take offline: open connections are cut and new ones refused, as when a
// laptop loses its network. Pages on different proxies are different
// origins, so each has its own localStorage (name and colour).
//
// The tests need a Chromium binary (Debian's chromium; scripts/test.sh
// installs it, $CHROMIUM overrides the path). Without one they skip,
// unless the environment variable CI is set, where a missing browser
// fails the run. Every page must also end without an uncaught exception.
//
// One browser serves every test of the package, started by the first and
// stopped by TestMain; each test opens its own server, proxies and pages
// (one window each, so none is a throttled background tab). Tests that
// need nothing shared run in parallel (t.Parallel), as many at once as
// -parallel allows; the browser's one clipboard is taken under a lock.
// Within a test, two pages may be driven at once from separate
// goroutines, each on its own chromedp context. A timing figure is a
// log line, never an assertion: with other tests beside it on two cores
// it varies several-fold.
//
// Artifacts (screenshots) go to $ARTIFACT_DIR, or to artifacts/e2e at the
// repository root when it is unset.
package e2e
