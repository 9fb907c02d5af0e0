// Package static holds the browser client, embedded into the server binary
// so that one file deploys everything.
package static

import "embed"

// FS is the browser client's files, served at /.
//
//go:embed *.html *.js
var FS embed.FS
