package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfile starts the load generator's CPU profile if path is set and
// returns the function that stops it. Knowing the generator's own cost
// matters: on one machine, its CPU is CPU the server does not get.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
