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
	var hasOp bool
	s := scanner{b: b}
	if !s.object(func(key []byte) bool { return s.requestField(&r, key, &hasOp) }) || ValidateDocID(r.Doc) != nil {
		return r, false
	}
	switch r.Type {
	case TypeOpen, TypeClose:
		return r, !hasOp // the reference leaves Op unset for these
	case TypeOp:
		return r, hasOp && r.ID != "" && len(r.ID) <= MaxOpIDLen && r.HasVersion
	}
	return r, false // presence, unknown types: the reference decides
}

// requestField decodes the value of key into r; any other key gives up.
func (s *scanner) requestField(r *Request, key []byte, hasOp *bool) bool {
	var ok bool
	switch string(key) {
	case "type":
		var t []byte
		t, ok = s.raw()
		r.Type = internRequest(t)
	case "doc":
		r.Doc, ok = s.str()
	case "id":
		r.ID, ok = s.str()
	case "version":
		r.Version, ok = s.int()
		ok = ok && r.Version >= 0
		r.HasVersion = true
	case "op":
		var raw []byte
		if raw, ok = s.value(); ok {
			ok = raw[0] == '[' && r.Op.UnmarshalJSON(raw) == nil
		}
		*hasOp = true
	case "presence":
		r.Presence, ok = s.bool()
	case "route":
		r.Route, ok = s.bool()
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
