package loadgen

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// cpuStat is the machine's CPU time from /proc/stat, in clock ticks.
type cpuStat struct {
	busy, total uint64
}

// readCPUStat reads the aggregate "cpu" line of /proc/stat; ok is false
// where there is none (not Linux). The server, the load generator and
// anything else on the machine (other people's builds and benchmarks)
// share the cores, so a report says how busy the machine was, and a run
// where "other" is large should be repeated.
func readCPUStat() (cpuStat, bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuStat{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return cpuStat{}, false
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuStat{}, false
	}
	var s cpuStat
	for i, f := range fields[1:] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuStat{}, false
		}
		s.total += n
		if i != 3 && i != 4 { // idle, iowait
			s.busy += n
		}
	}
	return s, true
}

// busyCores is how many of ncpu cores were busy between a and b.
func busyCores(a, b cpuStat, ncpu int) float64 {
	if b.total <= a.total {
		return 0
	}
	return float64(b.busy-a.busy) / float64(b.total-a.total) * float64(ncpu)
}
