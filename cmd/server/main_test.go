package main

import (
	"os"
	"testing"

	"github.com/collabedit/collab/servertest"
)

// TestMain removes the server binary servertest built for the tests.
func TestMain(m *testing.M) { os.Exit(servertest.Run(m)) }
