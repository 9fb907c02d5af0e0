package protocol

// scanRequest decodes the common client frames — open, op and close with
// the usual fields, no escapes, no whitespace — without reflection, and
// reports false for anything else, including every frame that must be
// refused, so that DecodeRequest's encoding/json path words every error.
// Besides the CPU (encoding/json was 8 % of the server's in a replay), it
// keeps the reader goroutine's stack small: encoding/json's recursion grew
// every socket's long-lived reader to 8–16 KB on its first message, more
// than half of an idle socket's memory.
func scanRequest(b []byte) (Request, bool) {
	var r Request
	var seen requestKeys
	s := scanner{b: b}
	if !s.object(func(key []byte) bool { return s.requestField(&r, key, &seen) }) || ValidateDocID(r.Doc) != nil {
		return r, false
	}
	hasOp := seen&keyOp != 0
	switch r.Type {
	case TypeOpen, TypeClose:
		return r, !hasOp // the reference leaves Op unset for these
	case TypeOp:
		return r, hasOp && r.ID != "" && len(r.ID) <= MaxOpIDLen && r.HasVersion
	}
	return r, false // presence, unknown types: the reference decides
}

// requestKeys is a set of the keys the fast path knows, one bit each: a
// repeated key is caught without allocating (the fast path stays at its 4
// allocations per op frame), and left to the reference to refuse.
type requestKeys uint8

const (
	keyType requestKeys = 1 << iota
	keyDoc
	keyID
	keyVersion
	keyOp
	keyPresence
	keyRoute
	keyLimits
)

// requestKey returns key's bit, or 0 for a key the fast path leaves to
// the reference.
func requestKey(key []byte) requestKeys {
	switch string(key) { // no allocation: the compiler compares in place
	case "type":
		return keyType
	case "doc":
		return keyDoc
	case "id":
		return keyID
	case "version":
		return keyVersion
	case "op":
		return keyOp
	case "presence":
		return keyPresence
	case "route":
		return keyRoute
	case "limits":
		return keyLimits
	}
	return 0
}

// requestField decodes the value of key into r and adds key to seen; an
// unknown or repeated key gives up.
func (s *scanner) requestField(r *Request, key []byte, seen *requestKeys) bool {
	k := requestKey(key)
	if k == 0 || *seen&k != 0 {
		return false
	}
	*seen |= k
	var ok bool
	switch k {
	case keyType:
		var t []byte
		t, ok = s.raw()
		r.Type = internRequest(t)
	case keyDoc:
		r.Doc, ok = s.str()
	case keyID:
		r.ID, ok = s.str()
	case keyVersion:
		r.Version, ok = s.int()
		ok = ok && r.Version >= 0
		r.HasVersion = true
	case keyOp:
		var raw []byte
		if raw, ok = s.value(); ok {
			ok = raw[0] == '[' && r.Op.UnmarshalJSON(raw) == nil
		}
	case keyPresence:
		r.Presence, ok = s.bool()
	case keyRoute:
		r.Route, ok = s.bool()
	case keyLimits:
		r.Limits, ok = s.bool()
	}
	return ok
}

// bool reads true or false.
func (s *scanner) bool() (bool, bool) {
	rest := s.b[s.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		s.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

func internRequest(t []byte) string {
	switch string(t) {
	case TypeOp:
		return TypeOp
	case TypeOpen:
		return TypeOpen
	case TypeClose:
		return TypeClose
	}
	return string(t)
}
