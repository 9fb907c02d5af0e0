package servertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// serverPackage is the command Binary builds. It is resolved in the
// module of the test's working directory, which is this module for every
// test under it.
const serverPackage = "github.com/collabedit/collab/cmd/server"

// buildArgs are the flags of the build, between "go build" and "-o": none,
// so the server runs without the race detector (see the package
// documentation). They are part of the cache key.
var buildArgs = []string{}

// Environment variables of Binary.
const (
	// EnvBinary names a server binary to use instead of building one.
	EnvBinary = "SERVERTEST_BINARY"
	// EnvCache names the build cache's directory; "off" builds into a
	// temporary directory instead, once per test binary.
	EnvCache = "SERVERTEST_CACHE"
)

// build is the one build, or cache lookup, per test binary.
var build struct {
	once sync.Once
	dir  string // temporary directory holding an uncached binary; removed by Run
	bin  string
	use  *entryLock // held while this process may run a cached binary
	err  error
}

// Binary returns the path of the server binary. It fails tb when the
// build fails.
//
// The binary is built once per change of its sources, not once per test
// binary: it is kept in a cache directory ($SERVERTEST_CACHE, by default
// collab-servertest in the user's cache directory) under a key that
// hashes everything the build reads — the go command's version and build
// settings (GOOS, GOARCH, CGO_*, GOFLAGS, ...), the build flags, the
// module's directory, go.mod, go.sum, the content of every file of the module's packages that
// cmd/server imports (Go, cgo and embedded files) and the version and
// checksum of every other module it imports — so a binary is never used
// for sources it was not built from. The packages of one `go test ./...`
// share it: the first to need it builds it while the others wait on a
// file lock. $SERVERTEST_CACHE=off builds into a temporary directory
// instead, once per test binary, as does a go command of a development
// version. $SERVERTEST_BINARY names a binary to use instead of either,
// e.g. an older build to show that a test catches a defect fixed since.
func Binary(tb testing.TB) string {
	tb.Helper()
	build.once.Do(func() {
		if bin := os.Getenv(EnvBinary); bin != "" {
			_, build.err = os.Stat(bin)
			build.bin = bin
			return
		}
		gocmd, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("build %s: the go command is not on PATH: %w", serverPackage, err)
			return
		}
		if dir := cacheDir(); dir != "" {
			key := func() (string, error) { return sourceKey(gocmd, buildArgs) }
			build.bin, build.use, build.err = cachedBuild(dir, key, func(bin string) error { return compile(gocmd, bin) })
			if build.bin != "" || build.err != nil {
				return
			}
			// Not cacheable (see cachedBuild): built as without a cache.
		}
		build.dir, build.bin, build.err = compileTemp(gocmd)
	})
	if build.err != nil {
		tb.Fatalf("servertest: %v", build.err)
	}
	return build.bin
}

// Run runs the tests and then removes an uncached binary Binary built, or
// lets go of the cached one (which may then be pruned). Call it from
// TestMain: os.Exit(servertest.Run(m)). Without it an uncached binary is
// left in the temporary directory.
func Run(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	if build.use != nil {
		build.use.unlock()
	}
	return code
}

// compileTemp builds serverPackage into a new temporary directory.
func compileTemp(gocmd string) (dir, bin string, err error) {
	dir, err = os.MkdirTemp("", "servertest-")
	if err != nil {
		return "", "", fmt.Errorf("build %s: %w", serverPackage, err)
	}
	bin = filepath.Join(dir, "server")
	if err := compile(gocmd, bin); err != nil {
		_ = os.RemoveAll(dir)
		return "", "", err
	}
	return dir, bin, nil
}

// compile builds serverPackage into bin.
func compile(gocmd, bin string) error {
	args := append(append([]string{"build"}, buildArgs...), "-o", bin, serverPackage)
	if out, err := exec.Command(gocmd, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", serverPackage, err, out)
	}
	return nil
}

// Token mints a token with the server binary's token subcommand, signed
// with secret (passed as $COLLAB_AUTH_SECRET), and returns its output:
// the token, or the link when args include -url.
func Token(tb testing.TB, secret string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(Binary(tb), append([]string{"token"}, args...)...)
	cmd.Env = append(os.Environ(), "COLLAB_AUTH_SECRET="+secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("servertest: token %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}
