package servertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// serverPackage is the command Binary builds. It is resolved in the
// module of the test's working directory, which is this module for every
// test under it.
const serverPackage = "github.com/collabedit/collab/cmd/server"

// build is the one build per test binary.
var build struct {
	once sync.Once
	dir  string // temporary directory holding the binary; removed by Run
	bin  string
	err  error
}

// Binary returns the path of the server binary, building it on the first
// call of the test binary (the go build cache makes that a link of a
// second or two when nothing changed). It fails tb when the build fails.
// $SERVERTEST_BINARY names a binary to use instead, e.g. an older build
// to show that a test catches a defect fixed since.
func Binary(tb testing.TB) string {
	tb.Helper()
	build.once.Do(func() {
		if bin := os.Getenv("SERVERTEST_BINARY"); bin != "" {
			_, build.err = os.Stat(bin)
			build.bin = bin
			return
		}
		build.dir, build.bin, build.err = compile()
	})
	if build.err != nil {
		tb.Fatalf("servertest: %v", build.err)
	}
	return build.bin
}

// Run runs the tests and then removes the binary Binary built. Call it
// from TestMain: os.Exit(servertest.Run(m)). Without it the binary is
// left in the temporary directory.
func Run(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	return code
}

// compile builds serverPackage into a new temporary directory.
func compile() (dir, bin string, err error) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return "", "", fmt.Errorf("build %s: the go command is not on PATH: %w", serverPackage, err)
	}
	dir, err = os.MkdirTemp("", "servertest-")
	if err != nil {
		return "", "", fmt.Errorf("build %s: %w", serverPackage, err)
	}
	bin = filepath.Join(dir, "server")
	out, err := exec.Command(gocmd, "build", "-o", bin, serverPackage).CombinedOutput()
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", "", fmt.Errorf("build %s: %w\n%s", serverPackage, err, out)
	}
	return dir, bin, nil
}
