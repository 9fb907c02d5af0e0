package eventlog

import (
	"fmt"
	"os"
	"syscall"
)

// The free-space reserve. A client that fills the disk would otherwise
// leave every document unwritable, and SQLite needs room of its own to
// recover (the WAL, checkpoints into the database). The writer checks the
// filesystem before each write transaction and refuses the batch while the
// free space is below the reserve, so the last bytes stay for SQLite and
// for the operator. One fstatfs costs 2–3 µs (BenchmarkFreeSpace on the
// 2-core VM) against a commit's fsync of 0.2–2 ms, so there is no cache to
// go stale: writes resume with the first batch after space is freed.
const (
	// maxDefaultReserve caps the default reserve: 512 MiB is room for a
	// checkpoint of a long WAL and an operator's shell on any disk.
	maxDefaultReserve = 512 << 20
	// defaultReservePercent of the filesystem's size is the default reserve
	// on small filesystems, where 512 MiB would be most of the disk.
	defaultReservePercent = 5
)

// reserveFor is the reserve in force for a Config.MinFreeBytes setting on
// a filesystem of size bytes; ok is false when the check is disabled.
func reserveFor(setting, size int64) (reserve int64, ok bool) {
	switch {
	case setting < 0:
		return 0, false
	case setting > 0:
		return setting, true
	}
	return min(maxDefaultReserve, size*defaultReservePercent/100), true
}

// diskSpace reports the bytes available to unprivileged users (what is
// left once ext4's root reserve is set aside, as df shows) and the size of
// the filesystem holding f.
func diskSpace(f *os.File) (avail, size int64, err error) {
	var st syscall.Statfs_t
	for {
		err = syscall.Fstatfs(int(f.Fd()), &st)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", f.Name(), err)
	}
	bs := int64(st.Bsize)
	return int64(st.Bavail) * bs, int64(st.Blocks) * bs, nil
}

// checkReserve returns a *DiskFullError when the data filesystem has less
// free space than the reserve. It asks about the process lock's open file,
// which sits beside the database: fstatfs skips the path lookup and the
// allocation of statfs (2–3 µs instead of 4–6). A failed statfs does not block
// writes: the reserve is a safeguard, and SQLite reports a full disk itself.
func (s *Store) checkReserve() error {
	if s.minFree < 0 {
		return nil
	}
	avail, size, err := diskSpace(s.plock.f)
	if err != nil {
		s.sampledLog.Warn().Err(err).Msg("free-space check failed; writing anyway")
		return nil
	}
	if reserve, ok := reserveFor(s.minFree, size); ok && avail < reserve {
		return &DiskFullError{Free: avail, Reserve: reserve}
	}
	return nil
}
