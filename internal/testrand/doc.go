// Package testrand gives randomised tests their seed, the same way in
// every package: a fresh random seed each run, logged so that a failure
// can be replayed, and the one given in $TEST_SEED instead when it is set.
//
//	seed := testrand.Seed(t) // logs "seed 123 (TEST_SEED=123 replays it)"
//	rng := rand.New(rand.NewPCG(seed, uint64(i)))
//
// To replay a failure, run the failed test with the seed it logged:
//
//	TEST_SEED=123 go test ./document/ -run '^TestPropTransform$'
//
// With TEST_SEED set, every test that asks for a seed gets that one, so a
// run of several packages or tests is replayed as a whole. Tests derive
// independent streams from the one seed (rand.NewPCG(seed, stream)), one
// per component, so that a replay is exact even when goroutines interleave
// differently. The log line shows with -v and whenever the test fails.
package testrand
