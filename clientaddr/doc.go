// Package clientaddr finds the address of the client behind an HTTP
// request, honouring a reverse proxy's X-Forwarded-For only when the TCP
// peer is a configured trusted proxy, and groups addresses into the keys
// that per-address limits count.
//
// Without trusted proxies the header is ignored: anyone can send it, so
// believing it would let one client claim any number of addresses and
// walk around every per-address limit.
//
// Concurrency: a Resolver is read-only once built and safe for concurrent
// use; the functions are pure.
package clientaddr
