package protocol

import "strconv"

// TypeLimits (extension, §17) tells a client that asked, in its open, the
// limits the server enforces, so that it can refuse or split an edit
// before sending it rather than have the server refuse it.
const TypeLimits = "limits"

// Limits are the server's limits that bear on what a client may send.
// Sizes are in bytes of the frame or of inserted UTF-8, lengths in code
// points, rates per second (§10).
type Limits struct {
	MaxMessageBytes int64   // largest client frame answered normally
	MaxDocLen       int     // longest document
	MaxInsertBytes  int     // most text one op may insert (the insert burst)
	InsertRate      float64 // inserted bytes per second, sustained
	MessageRate     float64 // messages per second, sustained
	MessageBurst    int     // messages in a burst
}

// AppendLimits appends {"type":"limits","doc":…,"maxMessageBytes":…,
// "maxDocLen":…,"maxInsertBytes":…,"insertRate":…,"messageRate":…,
// "messageBurst":…}.
func AppendLimits(dst []byte, doc string, l Limits) []byte {
	dst = append(dst, `{"type":"limits","doc":`...)
	dst = AppendString(dst, doc)
	dst = append(dst, `,"maxMessageBytes":`...)
	dst = strconv.AppendInt(dst, l.MaxMessageBytes, 10)
	dst = append(dst, `,"maxDocLen":`...)
	dst = strconv.AppendInt(dst, int64(l.MaxDocLen), 10)
	dst = append(dst, `,"maxInsertBytes":`...)
	dst = strconv.AppendInt(dst, int64(l.MaxInsertBytes), 10)
	dst = append(dst, `,"insertRate":`...)
	dst = strconv.AppendFloat(dst, l.InsertRate, 'f', -1, 64)
	dst = append(dst, `,"messageRate":`...)
	dst = strconv.AppendFloat(dst, l.MessageRate, 'f', -1, 64)
	dst = append(dst, `,"messageBurst":`...)
	dst = strconv.AppendInt(dst, int64(l.MessageBurst), 10)
	return append(dst, '}')
}
