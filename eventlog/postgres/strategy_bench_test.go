package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/pgtest"
)

// BenchmarkBatchStrategy compares the two ways a batch transaction can
// let one refused event fail alone, on the durable server, for batches of
// 128 events (about the size BenchmarkAppendParallel reaches), every 8th
// a conflict (a version already taken):
//
//   - unnest: the store's way, one INSERT … SELECT FROM unnest(arrays)
//     ON CONFLICT DO NOTHING RETURNING, the trigger skipping gaps;
//   - savepoint: SAVEPOINT, INSERT, RELEASE per event (ROLLBACK TO on a
//     refusal), one round trip each, as a per-event error must be seen
//     before the next statement runs in the aborted transaction.
//
// Both take the commit lock and commit once per batch.
func BenchmarkBatchStrategy(b *testing.B) {
	const size = 128
	for _, strategy := range []string{"unnest", "savepoint"} {
		b.Run(strategy, func(b *testing.B) {
			url := pgtest.SharedWith(b, pgtest.Config{Durable: true}).DB(b)
			_ = openStore(b, url, postgres.Config{Shared: true}) // migrates
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, `INSERT INTO events (doc, version, op_id, author, time, schema, payload) VALUES ('taken', 0, 'x', '', 0, 1, '')`); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				docs := make([]string, size)
				versions := make([]int64, size)
				ops := make([]string, size)
				for j := range size {
					docs[j], ops[j] = fmt.Sprintf("d%d-%d", i, j), "op"
					if j%8 == 7 {
						docs[j] = "taken"
					}
				}
				tx, err := conn.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(42)`); err != nil {
					b.Fatal(err)
				}
				switch strategy {
				case "unnest":
					rows, err := tx.Query(ctx, `INSERT INTO events (doc, version, op_id, author, time, schema, payload)
						SELECT doc, version, op_id, '', 0, 1, '\x5b5d'::bytea FROM unnest($1::text[], $2::bigint[], $3::text[])
						WITH ORDINALITY AS t(doc, version, op_id, ord) ORDER BY ord
						ON CONFLICT DO NOTHING RETURNING seq`, docs, versions, ops)
					if err != nil {
						b.Fatal(err)
					}
					rows.Close()
					if rows.Err() != nil {
						b.Fatal(rows.Err())
					}
				case "savepoint":
					for j := range size {
						if _, err := tx.Exec(ctx, `SAVEPOINT e`); err != nil {
							b.Fatal(err)
						}
						_, err := tx.Exec(ctx, `INSERT INTO events (doc, version, op_id, author, time, schema, payload) VALUES ($1, $2, $3, '', 0, 1, '\x5b5d'::bytea)`,
							docs[j], versions[j], ops[j])
						undo := `RELEASE SAVEPOINT e`
						if err != nil {
							undo = `ROLLBACK TO SAVEPOINT e`
						}
						if _, err := tx.Exec(ctx, undo); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := tx.Commit(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
