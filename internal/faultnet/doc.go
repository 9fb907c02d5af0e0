// Package faultnet puts network faults between a test's client and a real
// server: a TCP proxy on loopback that can stall one direction or both,
// go offline, or partition the path (calls time out, nothing is refused).
// Browser tests stand it between a page and the server; fault tests stand
// it between a server process and Redis or PostgreSQL, to cut one
// "host" off from them.
//
// Each accepted connection runs two copying goroutines, which the proxy
// owns: the test's Cleanup closes the listener, wakes everything waiting
// on a hold or partition and closes every connection.
package faultnet
