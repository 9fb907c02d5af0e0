package static

import "embed"

// FS is the browser client's files, served by Handler.
//
//go:embed *.html *.js *.css vendor/*.js vendor/*.txt
var FS embed.FS
