package hub

import (
	"github.com/collabedit/collab/protocol"
)

func refuse(code protocol.Code, doc, id, msg string) *protocol.Error {
	return &protocol.Error{Code: code, Message: msg, Doc: doc, ID: id}
}

func unavailable(doc, id, msg string) *protocol.Error {
	return refuse(protocol.CodeUnavailable, doc, id, msg)
}
