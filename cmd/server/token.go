package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/collabedit/collab/auth"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// runToken is the token subcommand: it mints an HS256 token with the
// server's secret, for scripts and for the first owner, and prints it
// (or, with -url, a link that carries it in the fragment, as share links
// do). It returns the exit status.
func runToken(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var docs stringList
	sub := fs.String("sub", "", "user id (required)")
	name := fs.String("name", "", "display name shown to others")
	guest := fs.Bool("guest", false, "a guest's token, as share links are: each user of it names itself, shown as \"<name> (guest)\"; -name is for one who does not")
	fs.Var(&docs, "doc", "document pattern and role, pattern:role (read, write, owner); \"*\" matches any run of characters; repeatable, e.g. -doc 'notes:owner' -doc 'team-*:read'")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime of the token")
	secretFile := fs.String("auth-secret-file", "", "file holding the HS256 secret; default $"+secretEnv)
	issuer := fs.String("auth-issuer", "", "iss to write, if the server checks one")
	link := fs.String("url", "", "print this page URL with the token in its fragment, e.g. http://localhost:8080/d/notes")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: server token -sub ID -doc PATTERN:ROLE [flags]\n\nMints a token signed with the server's secret and prints it.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	grants, err := auth.ParseGrants(docs)
	if err == nil && (*sub == "" || len(grants) == 0) {
		err = errors.New("need -sub and at least one -doc")
	}
	var secret []byte
	if err == nil {
		secret, err = auth.ReadSecret(*secretFile, secretEnv)
	}
	var tok string
	if err == nil {
		m := &auth.Minter{Secret: secret, Issuer: *issuer}
		tok, err = m.Mint(auth.Identity{Subject: *sub, Name: *name, Grants: grants, Guest: *guest}, *ttl)
	}
	if err != nil {
		fmt.Fprintln(stderr, "token:", err)
		return 2
	}
	if *link != "" {
		fmt.Fprintf(stdout, "%s#token=%s\n", *link, tok)
		return 0
	}
	fmt.Fprintln(stdout, tok)
	return 0
}
