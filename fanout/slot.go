package fanout

import "strings"

// hasTag reports whether channel holds a Redis Cluster hash tag: a "{"
// followed, later, by a "}" with at least one byte between them.
func hasTag(channel string) bool {
	_, ok := tag(channel)
	return ok
}

// tag returns the part of channel Redis Cluster hashes: what is between
// the first "{" and the next "}" if that is not empty, as the cluster
// specification defines it.
func tag(channel string) (string, bool) {
	i := strings.IndexByte(channel, '{')
	if i < 0 {
		return channel, false
	}
	j := strings.IndexByte(channel[i+1:], '}')
	if j <= 0 {
		return channel, false
	}
	return channel[i+1 : i+1+j], true
}

// slotCount is the number of hash slots of a Redis Cluster.
const slotCount = 16384

// slot returns channel's hash slot: CRC16 (XModem) of its tag, mod 16384,
// as Redis computes it.
func slot(channel string) int {
	t, _ := tag(channel)
	var crc uint16
	for i := 0; i < len(t); i++ {
		crc ^= uint16(t[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % slotCount
}
