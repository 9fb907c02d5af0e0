package eventlog

import (
	"testing"
)

func TestReserveFor(t *testing.T) {
	t.Parallel()
	const mib, gib = 1 << 20, 1 << 30
	tests := []struct {
		name          string
		setting, size int64
		want          int64
		on            bool
	}{
		{"default on a large disk is capped at 512 MiB", 0, 250 * gib, 512 * mib, true},
		{"default on a small disk is 5%", 0, 20 * mib, 1 * mib, true},
		{"default where 5% is exactly 512 MiB", 0, 10 * gib, 512 * mib, true},
		{"explicit", 100 * mib, 250 * gib, 100 * mib, true},
		{"explicit above the default cap", 2 * gib, 250 * gib, 2 * gib, true},
		{"negative disables", -1, 250 * gib, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, on := reserveFor(tt.setting, tt.size)
			if got != tt.want || on != tt.on {
				t.Fatalf("reserveFor(%d, %d) = %d, %v; want %d, %v", tt.setting, tt.size, got, on, tt.want, tt.on)
			}
		})
	}
}

func TestDiskFullMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		free, reserve int64
		want          string
	}{
		{180 << 20, 512 << 20, "only 180 MiB free on the data filesystem, below the 512 MiB reserve; writes resume when space is freed"},
		{1536 << 20, 2 << 30, "only 1.5 GiB free on the data filesystem, below the 2.0 GiB reserve; writes resume when space is freed"},
		{512, 8 << 20, "only 512 B free on the data filesystem, below the 8.0 MiB reserve; writes resume when space is freed"},
		{4000, 1 << 20, "only 3.9 KiB free on the data filesystem, below the 1.0 MiB reserve; writes resume when space is freed"},
	}
	for _, tt := range tests {
		if got := (&DiskFullError{Free: tt.free, Reserve: tt.reserve}).Error(); got != tt.want {
			t.Errorf("free %d reserve %d:\n got %q\nwant %q", tt.free, tt.reserve, got, tt.want)
		}
	}
}

// BenchmarkFreeSpace is the cost the reserve adds to every write
// transaction: one statfs of the database file.
func BenchmarkFreeSpace(b *testing.B) {
	s := openTest(b, tempDB(b), Config{})
	b.ReportAllocs()
	for b.Loop() {
		if err := s.checkReserve(); err != nil {
			b.Fatal(err)
		}
	}
}
