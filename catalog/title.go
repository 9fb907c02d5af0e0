package catalog

import (
	"regexp"
	"strings"
	"unicode"
)

// MaxTitle is the longest title listed, in code points.
const MaxTitle = 80

// titleScan is how much of the start of a text Title reads, in code
// points: a title is on one of the first lines.
const titleScan = 4096

// Whitespace as JavaScript's \s knows it, so that Title agrees with the
// browser's titleOf (static/title.js) on every input.
const jsSpace = `[\t\n\v\f\r\p{Zs}\x{2028}\x{2029}\x{FEFF}]`

var (
	lineBreak   = regexp.MustCompile(`\r\n|\r|\n`)
	controls    = regexp.MustCompile(`[\x00-\x1f\x7f]`)
	quoteMarks  = regexp.MustCompile(`^(?:>` + jsSpace + `*)+`)
	headingOpen = regexp.MustCompile(`^#{1,6}(?:` + jsSpace + `+|$)`)
	headingEnd  = regexp.MustCompile(jsSpace + `+#+` + jsSpace + `*$`)
	listMarker  = regexp.MustCompile(`^(?:[-*+]|\d{1,9}[.)])` + jsSpace + `+`)
	spaces      = regexp.MustCompile(jsSpace + `+`)
	ruleLine    = regexp.MustCompile(`^(?:[=\-*_]` + jsSpace + `*)+$`)
)

func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x2028, 0x2029, 0xFEFF:
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

// Title returns the title of a document's text: its first non-blank line,
// without a Markdown heading's "#"s, a blockquote's ">" or a list item's
// marker, whitespace collapsed, cut to MaxTitle code points with "…";
// "" when the text has none. The rules are static/title.js's, and
// static/test/title_cases.json tests both.
func Title(text string) string {
	if n := 0; len(text) > titleScan {
		for i := range text {
			if n == titleScan {
				text = text[:i]
				break
			}
			n++
		}
	}
	for _, line := range lineBreak.Split(text, -1) {
		line = strings.TrimFunc(controls.ReplaceAllString(line, " "), isJSSpace)
		line = quoteMarks.ReplaceAllString(line, "")
		line = headingOpen.ReplaceAllString(line, "")
		line = headingEnd.ReplaceAllString(line, "")
		line = listMarker.ReplaceAllString(line, "")
		line = strings.TrimFunc(spaces.ReplaceAllString(line, " "), isJSSpace)
		if ruleLine.MatchString(line) {
			continue
		}
		if line != "" {
			return cutTitle(line, MaxTitle)
		}
	}
	return ""
}

func cutTitle(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return strings.TrimRightFunc(string(r[:max-1]), isJSSpace) + "…"
}
