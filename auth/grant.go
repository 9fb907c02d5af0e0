package auth

import (
	"fmt"
	"sort"
	"strings"
)

// Grants maps document patterns to roles, as in a token's "docs" claim.
// A pattern is a document id in which "*" stands for any run of
// characters (document ids cannot contain "*"): "notes", "team-*", "*".
type Grants map[string]Role

// Role returns the highest role of the patterns doc matches, None if it
// matches none.
func (g Grants) Role(doc string) Role {
	best := None
	for p, r := range g {
		if r > best && Match(p, doc) {
			best = r
		}
	}
	return best
}

// Max returns the highest role in g: what the identity may do with some
// document (a token with only read grants can never write).
func (g Grants) Max() Role {
	best := None
	for _, r := range g {
		best = max(best, r)
	}
	return best
}

// String lists the grants sorted by pattern, as "notes:owner team-*:read".
func (g Grants) String() string {
	keys := make([]string, 0, len(g))
	for p := range g {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, p := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%s", p, g[p])
	}
	return b.String()
}

// ParseGrants reads "pattern:role" items, as the token subcommand takes
// them: "notes:owner", "team-*:write", "*:read".
func ParseGrants(items []string) (Grants, error) {
	g := Grants{}
	for _, it := range items {
		i := strings.LastIndexByte(it, ':')
		if i <= 0 {
			return nil, fmt.Errorf("parse grant %q: want pattern:role", it)
		}
		r, err := ParseRole(it[i+1:])
		if err != nil {
			return nil, fmt.Errorf("parse grant %q: %w", it, err)
		}
		g[it[:i]] = max(g[it[:i]], r)
	}
	return g, nil
}

// Match reports whether doc matches pattern, where each "*" in pattern
// stands for any run of characters, possibly empty.
func Match(pattern, doc string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == doc
	}
	if !strings.HasPrefix(doc, parts[0]) {
		return false
	}
	doc = doc[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(doc, p)
		if i < 0 {
			return false
		}
		doc = doc[i+len(p):]
	}
	return len(doc) >= len(last) && strings.HasSuffix(doc, last)
}
