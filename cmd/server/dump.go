package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/logdump"
)

// dumpLog is the event log export and import work on.
type dumpLog interface {
	logdump.Source
	logdump.Sink
	Close() error
}

// openDumpLog opens the log at store (a postgres:// URL) or, when store is
// empty, <dataDir>/events.db. For an export (write false) it opens the
// log read-only, beside any running server. An import takes the log
// exclusively, so no server may be using it.
func openDumpLog(ctx context.Context, dataDir, store string, write bool) (dumpLog, error) {
	if isPostgres(store) {
		s, err := postgres.Open(ctx, store, postgres.Config{ReadOnly: !write})
		var locked *eventlog.LockedError
		if errors.As(err, &locked) {
			return nil, fmt.Errorf("event log %s is in use by a server process; stop it before importing: %w",
				redactURL(store), eventlog.ErrLocked)
		}
		return s, err
	}
	if store != "" {
		return nil, fmt.Errorf("-store %q: want empty (SQLite in the data directory) or a postgres:// URL", store)
	}
	path := filepath.Join(dataDir, "events.db")
	if !write {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no event log to export: %w", err)
		}
	}
	return eventlog.Open(path, eventlog.Config{ReadOnly: !write, MinFreeBytes: -1})
}

// dumpFlags are the flags export and import share.
func dumpFlags(name, usage string, stderr io.Writer) (*flag.FlagSet, *string, *string, *string) {
	fs := flag.NewFlagSet("server "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "data", "data directory holding events.db (when -store is not given)")
	store := fs.String("store", "", "PostgreSQL event log, postgres://user@host:port/db (default: SQLite in -data)")
	file := fs.String("file", "-", "the dump file; - is standard output (export only)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs, data, store, file
}

// runExport is the export subcommand: it writes every event of the log as
// a logdump (JSON lines with a SHA-256 checksum) and returns the exit
// status.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, data, store, file := dumpFlags("export", "Usage: server export [-data DIR | -store postgres://…] [-file FILE]\n\n"+
		"Writes every event of the log, in commit order, as JSON lines ending with a checksum\n(see docs/scaling.md, Moving data). It may run beside the server.\n\n", stderr)
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	log, err := openDumpLog(ctx, *data, *store, false)
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return 1
	}
	defer log.Close()
	out := stdout
	if *file != "-" {
		f, err := os.Create(*file)
		if err != nil {
			fmt.Fprintln(stderr, "export:", err)
			return 1
		}
		defer f.Close()
		out = f
	}
	n, err := logdump.Write(ctx, log, out)
	if err == nil && *file != "-" {
		err = out.(*os.File).Sync()
	}
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return 1
	}
	fmt.Fprintf(stderr, "exported %d events\n", n)
	return 0
}

// runImport is the import subcommand: it checks a dump and loads it into
// an empty log, rebuilding snapshots, and returns the exit status.
func runImport(ctx context.Context, args []string, stderr io.Writer) int {
	fs, data, store, file := dumpFlags("import", "Usage: server import [-data DIR | -store postgres://…] -file FILE\n\n"+
		"Checks a dump made by export and loads it into an empty event log, with a snapshot every\n-snapshot-every versions of each document. No server may use the log meanwhile.\n\n", stderr)
	every := fs.Int("snapshot-every", 200, "versions between the snapshots taken of each document")
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	if *file == "-" {
		fmt.Fprintln(stderr, "import: -file is required (the dump is read twice: checked, then loaded)")
		return 2
	}
	f, err := os.Open(*file)
	if err != nil {
		fmt.Fprintln(stderr, "import:", err)
		return 1
	}
	defer f.Close()
	if *store == "" {
		if err := os.MkdirAll(*data, 0o755); err != nil {
			fmt.Fprintln(stderr, "import:", err)
			return 1
		}
	}
	log, err := openDumpLog(ctx, *data, *store, true)
	if err != nil {
		fmt.Fprintln(stderr, "import:", err)
		return 1
	}
	st, err := logdump.Read(ctx, f, log, logdump.Config{SnapshotEvery: *every})
	if cerr := log.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "import:", err)
		return 1
	}
	fmt.Fprintf(stderr, "imported %d events of %d documents with %d snapshots; %d purge events skipped\n",
		st.Events, st.Docs, st.Snapshots, st.Skipped)
	return 0
}

// parseStatus is the exit status of a refused command line.
func parseStatus(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
