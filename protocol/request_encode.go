package protocol

import "strconv"

// AppendRequest appends r as the client → server frame it describes, the
// inverse of DecodeRequest for valid requests: type, then "presence",
// "route" and "limits" when true, doc, "version" when HasVersion, "id" when set, "op"
// for an op, and the peer's fields for a presence update. Clients (the Go
// client, the load generator, benchmarks) encode with it, by hand like
// the server's encoders, so no frame costs reflection. A ping is just its
// type and id.
func AppendRequest(dst []byte, r Request) []byte {
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, r.Type)
	if r.Type == TypeAuth { // names no document (§18)
		dst = append(dst, `,"token":`...)
		dst = AppendString(dst, r.Token)
		return append(dst, '}')
	}
	if r.Type == TypePing { // names no document (§16)
		if r.ID != "" {
			dst = append(dst, `,"id":`...)
			dst = AppendString(dst, r.ID)
		}
		return append(dst, '}')
	}
	if r.Presence {
		dst = append(dst, `,"presence":true`...)
	}
	if r.Route {
		dst = append(dst, `,"route":true`...)
	}
	if r.Limits {
		dst = append(dst, `,"limits":true`...)
	}
	dst = append(dst, `,"doc":`...)
	dst = AppendString(dst, r.Doc)
	if r.HasVersion {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, r.Version, 10)
	}
	if r.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = AppendString(dst, r.ID)
	}
	switch r.Type {
	case TypeOp:
		dst = append(dst, `,"op":`...)
		dst = r.Op.AppendJSON(dst)
	case TypePresence:
		p := r.Peer
		dst = append(dst, `,"session":`...)
		dst = AppendString(dst, p.Session)
		dst = append(dst, `,"name":`...)
		dst = AppendString(dst, p.Name)
		dst = append(dst, `,"color":`...)
		dst = AppendString(dst, p.Color)
		if s := p.Selection; s != nil {
			dst = append(dst, `,"selection":{"anchor":`...)
			dst = strconv.AppendInt(dst, int64(s.Anchor), 10)
			dst = append(dst, `,"head":`...)
			dst = strconv.AppendInt(dst, int64(s.Head), 10)
			dst = append(dst, '}')
		}
	}
	return append(dst, '}')
}
