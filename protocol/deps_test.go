package protocol_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoRedisDeps checks that the wire format and the Go client link no
// Redis client. Before Peer moved here from package presence they pulled
// in ~15 go-redis packages; anyone speaking the protocol should not.
func TestNoRedisDeps(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps",
		"github.com/collabedit/collab/protocol",
		"github.com/collabedit/collab/client").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(pkg, "redis") {
			t.Errorf("protocol or client depends on %s", pkg)
		}
	}
}
