package static

import "embed"

// FS is the browser client's files, served by Handler.
//
//go:embed *.html *.js *.css vendor/*.js vendor/*.txt vendor/codemirror/*.js vendor/codemirror/*.txt examples/*.html examples/*.js examples/*.css
var FS embed.FS
