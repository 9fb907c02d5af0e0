package catalog

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTitle runs the cases the browser's titleOf is tested with.
func TestTitle(t *testing.T) {
	raw, err := os.ReadFile("../static/test/title_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][2]string
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		if got := Title(c[0]); got != c[1] {
			t.Errorf("Title(%q) = %q, want %q", c[0], got, c[1])
		}
	}
	long := Title(strings.Repeat("x", 200))
	if utf8.RuneCountInString(long) != MaxTitle || !strings.HasSuffix(long, "…") {
		t.Errorf("long title %q", long)
	}
	if e := Title(strings.Repeat("😀", 100)); utf8.RuneCountInString(e) != MaxTitle || !utf8.ValidString(e) {
		t.Errorf("emoji title %q", e)
	}
	if got := Title(strings.Repeat(" ", 5000) + "\nlate"); got != "" {
		t.Errorf("a title past the first %d code points: %q", titleScan, got)
	}
}
