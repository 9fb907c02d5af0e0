package trace

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/collabedit/collab/document"
)

// Patch is one edit: delete Del code points at Pos, then insert Ins there.
type Patch struct {
	Pos, Del int
	Ins      string
}

// UnmarshalJSON decodes the trace form [pos, delCount, "inserted"].
// It is hand-written because generic decoding of 260k small arrays
// dominated Load's run time (about 4x slower).
func (p *Patch) UnmarshalJSON(b []byte) error {
	s := patchScanner{b: b}
	s.expect('[')
	pos := s.count()
	s.expect(',')
	del := s.count()
	s.expect(',')
	ins := s.str()
	s.expect(']')
	s.space()
	if s.err == nil && s.i != len(s.b) {
		s.fail()
	}
	if s.err != nil {
		return s.err
	}
	*p = Patch{Pos: pos, Del: del, Ins: ins}
	return nil
}

// patchScanner parses one patch; the first error sticks.
type patchScanner struct {
	b   []byte
	i   int
	err error
}

func (s *patchScanner) fail() {
	if s.err == nil {
		s.err = fmt.Errorf("trace: malformed patch %.60s (want [pos, delCount, \"text\"] with non-negative integers)", s.b)
	}
}

func (s *patchScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *patchScanner) expect(c byte) {
	s.space()
	if s.err != nil || s.i >= len(s.b) || s.b[s.i] != c {
		s.fail()
		return
	}
	s.i++
}

// count parses a non-negative integer below 2^31.
func (s *patchScanner) count() int {
	s.space()
	start, n := s.i, 0
	for s.err == nil && s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && s.i-start < 10 {
		n = n*10 + int(s.b[s.i]-'0')
		s.i++
	}
	if s.i == start || n > 1<<31-1 || (s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9') {
		s.fail()
	}
	return n
}

// str parses a JSON string; escapes are left to encoding/json.
func (s *patchScanner) str() string {
	s.space()
	if s.err != nil || s.i >= len(s.b) || s.b[s.i] != '"' {
		s.fail()
		return ""
	}
	start := s.i
	simple := true
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '\\':
			simple = false
			s.i++
		case c == '"':
			s.i++
			lit := s.b[start:s.i]
			if simple {
				return string(lit[1 : len(lit)-1])
			}
			var out string
			if err := json.Unmarshal(lit, &out); err != nil {
				s.fail()
			}
			return out
		case c < 0x20 || c >= 0x80:
			simple = false // control characters and UTF-8 checks: encoding/json
		}
	}
	s.fail()
	return ""
}

// Trace is a loaded editing trace with its transactions flattened.
type Trace struct {
	StartContent, EndContent string
	Patches                  []Patch // in application order
	// Times holds, per patch, the time of its transaction (zero where the
	// file gives none), for replays in the trace's own time.
	Times []time.Time
}

type fileFormat struct {
	StartContent string `json:"startContent"`
	EndContent   string `json:"endContent"`
	Txns         []struct {
		Time    string  `json:"time"`
		Patches []Patch `json:"patches"`
	} `json:"txns"`
}

// Load reads a trace file. Gzip input is detected by its magic bytes, so
// both name.json and name.json.gz work.
func Load(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("trace: %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	var ff fileFormat
	if err := json.NewDecoder(r).Decode(&ff); err != nil {
		return nil, fmt.Errorf("trace: %s: %w", path, err)
	}
	n := 0
	for _, tx := range ff.Txns {
		n += len(tx.Patches)
	}
	t := &Trace{StartContent: ff.StartContent, EndContent: ff.EndContent,
		Patches: make([]Patch, 0, n), Times: make([]time.Time, 0, n)}
	for i, tx := range ff.Txns {
		var at time.Time
		if tx.Time != "" {
			if at, err = time.Parse(time.RFC3339Nano, tx.Time); err != nil {
				return nil, fmt.Errorf("trace: %s: transaction %d: time: %w", path, i, err)
			}
		}
		t.Patches = append(t.Patches, tx.Patches...)
		for range tx.Patches {
			t.Times = append(t.Times, at)
		}
	}
	return t, nil
}

// Ops returns one op per patch, built with document.FromPatch. A patch
// that changes nothing yields an empty op.
func (t *Trace) Ops() []document.Op {
	ops := make([]document.Op, len(t.Patches))
	for i, p := range t.Patches {
		ops[i] = document.FromPatch(p.Pos, p.Del, p.Ins)
	}
	return ops
}

// EnvDir names an environment variable that, when set, overrides the
// directory Dir returns.
const EnvDir = "COLLAB_TRACES_DIR"

// RepoDir is where the traces live, relative to the repository root.
// Keep it: an outside benchmark harness reads
// <root>/trace/testdata/automerge-paper.json.gz.
const RepoDir = "trace/testdata"

// modulePath identifies this repository's root by its go.mod.
const modulePath = "github.com/collabedit/collab"

// Dir returns the traces directory: $COLLAB_TRACES_DIR if set; otherwise
// trace/testdata of the repository that holds the working directory (the
// nearest parent whose go.mod is this module), so tests of any package and
// `go run ./cmd/loadtest` anywhere in a clone find it. It returns "" if
// there is none: nothing is read from beside the clone.
func Dir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	if root := moduleRoot(wd); root != "" && isDir(filepath.Join(root, RepoDir)) {
		return filepath.Join(root, RepoDir)
	}
	return ""
}

// moduleRoot returns the nearest of dir and its parents whose go.mod
// declares this module, or "".
func moduleRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if declaresModule(filepath.Join(d, "go.mod")) {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// declaresModule reports whether the go.mod file at path is this
// module's.
func declaresModule(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == modulePath
		}
	}
	return false
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
