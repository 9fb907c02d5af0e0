package hub

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/protocol"
)

func refuse(code protocol.Code, doc, id, msg string) *protocol.Error {
	return &protocol.Error{Code: code, Message: msg, Doc: doc, ID: id}
}

func unavailable(doc, id, msg string) *protocol.Error {
	return refuse(protocol.CodeUnavailable, doc, id, msg)
}

// internal logs a bug with a fresh correlation id and returns the error to
// send, which quotes the id so a report can be matched to the log line.
func internalError(log *zerolog.Logger, doc, opID string, err error) *protocol.Error {
	var b [6]byte
	_, _ = rand.Read(b[:])
	ref := hex.EncodeToString(b[:])
	log.Error().Err(err).Str("op", opID).Str("ref", ref).Msg("internal error")
	return refuse(protocol.CodeInternal, doc, opID, "internal error, reference "+ref)
}
