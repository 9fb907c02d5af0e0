package servertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// tailLines is how many of the last log lines a failure report shows: a
// server at -log-level warn writes a few lines per fault, so 40 cover the
// last few faults without burying the test's own messages.
const tailLines = 40

// logFile is a server's log across all its runs: every line goes to a
// file, and the last tailLines are kept in memory for failure reports.
type logFile struct {
	mu   sync.Mutex
	f    *os.File
	tail []string
}

func newLogFile(dir, name string) (*logFile, error) {
	f, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	return &logFile{f: f}, nil
}

// line appends one line (without its newline).
func (l *logFile) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.f.WriteString(s + "\n")
	if len(l.tail) == tailLines {
		copy(l.tail, l.tail[1:])
		l.tail = l.tail[:tailLines-1]
	}
	l.tail = append(l.tail, s)
}

// lastLines returns the kept tail, newest last.
func (l *logFile) lastLines() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.tail, "\n")
}

// contents reads back the whole file.
func (l *logFile) contents() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, err := os.ReadFile(l.f.Name())
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b)
}

// keep copies the file into dir as name.log.
func (l *logFile) keep(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("keep log: %w", err)
	}
	dst := filepath.Join(dir, name+".log")
	if err := os.WriteFile(dst, []byte(l.contents()), 0o644); err != nil {
		return fmt.Errorf("keep log: %w", err)
	}
	return nil
}

func (l *logFile) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.f.Close()
}
