package postgres_test

import (
	"testing"

	"github.com/collabedit/collab/eventlog/logtest"
	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/pgtest"
)

// benchStore opens a Store on a fresh database of the durable shared
// server (fsync and synchronous_commit on, as in production).
func benchStore(b *testing.B) *postgres.Store {
	b.Helper()
	return openStore(b, pgtest.SharedWith(b, pgtest.Config{Durable: true}).DB(b), postgres.Config{})
}

// BenchmarkAppendParallel is eventlog's benchmark of the same name on
// PostgreSQL (logtest.BenchAppendParallel).
func BenchmarkAppendParallel(b *testing.B) { logtest.BenchAppendParallel(b, benchStore(b)) }

// BenchmarkAppendSerial is the one-commit-per-event baseline.
func BenchmarkAppendSerial(b *testing.B) { logtest.BenchAppendSerial(b, benchStore(b)) }

// BenchmarkAppendHot is one hot document's commits as it grows
// (logtest.BenchAppendHot).
func BenchmarkAppendHot(b *testing.B) { logtest.BenchAppendHot(b, benchStore(b)) }
