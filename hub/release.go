package hub

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// bigRoom is the memory a room must have held (history, pending ops and
// text) for its unload to hand memory back to the operating system: Go's
// scavenger returns freed heap gradually (a 900 KB paste loop once left
// the process at 1.84 GB a minute after its document unloaded; with the
// byte bounds it peaks at 53 MB, and stayed there at 50 MB), while a
// forced return costs one full collection — under a millisecond at these
// heap sizes, and rate-limited below. Measured on that loop: 49 MB before
// the room's unload, 25 MB after.
const bigRoom = 4 << 20

// releaseEvery bounds forced returns to one per 10 s, however many large
// documents unload together.
const releaseEvery = 10 * time.Second

// memoryReturn hands freed memory back to the operating system after a
// large document unloaded, at most once per releaseEvery.
type memoryReturn struct {
	last atomic.Int64    // unix nanoseconds of the last forced release
	wg   *sync.WaitGroup // the hub's background goroutines, which Close waits for
}

// release returns freed memory on a goroutine of the hub's, unless one
// did less than releaseEvery ago.
func (m *memoryReturn) release() {
	now := time.Now().UnixNano()
	last := m.last.Load()
	if now-last < int64(releaseEvery) || !m.last.CompareAndSwap(last, now) {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		debug.FreeOSMemory()
	}()
}
