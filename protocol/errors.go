package protocol

import "fmt"

// Code is a stable error code from the protocol's error table. Clients branch
// on it, so existing values never change meaning.
type Code string

// The error codes of protocol v1.
const (
	CodeBadRequest  Code = "bad_request"  // not a JSON object, duplicate key, unknown type, missing or mistyped field, bad doc id, op id over MaxOpIDLen
	CodeNotOpen     Code = "not_open"     // op or close for a document the connection has not opened
	CodeBadVersion  Code = "bad_version"  // version negative, in the future, or older than retained history
	CodeInvalidOp   Code = "invalid_op"   // op malformed or not fitting the document at its version
	CodeTooLarge    Code = "too_large"    // frame, op or resulting document over the configured limit
	CodeRateLimited Code = "rate_limited" // too many messages
	CodeUnauth      Code = "unauthorized" // no or bad credentials
	CodeForbidden   Code = "forbidden"    // no right to do this on this document
	CodeUnavailable Code = "unavailable"  // storage not available; nothing was applied, retry later
	CodeInternal    Code = "internal"     // a bug; the message carries a correlation id
)

// Codes lists every error code, in the order of the protocol's table.
var Codes = []Code{CodeBadRequest, CodeNotOpen, CodeBadVersion, CodeInvalidOp, CodeTooLarge,
	CodeRateLimited, CodeUnauth, CodeForbidden, CodeUnavailable, CodeInternal}

// Error is a refused request as sent to the client in an "error" message.
// Doc and ID echo the request where known so the client can tell which op
// was refused.
type Error struct {
	Code    Code
	Message string
	Doc     string
	ID      string
	// Session (extension) marks the refusal of a presence message: the
	// session it was about, so a client can tell it from a refusal of the
	// document itself.
	Session string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WebSocket close codes the server uses besides the standard ones. 4000-4999
// is the range RFC 6455 leaves to applications.
const (
	// CloseSlowConsumer: the connection's send queue passed its byte limit
	// because the client read too slowly. Nothing was lost: reconnect and
	// reopen each document with the last version seen to catch up.
	CloseSlowConsumer = 4001
	// CloseTooLarge is the standard 1009: a frame over the hard read limit.
	CloseTooLarge = 1009
	// CloseGoingAway is the standard 1001: the server is shutting down;
	// reconnect (to another process) and reopen with your version.
	CloseGoingAway = 1001
	// ClosePolicy is the standard 1008: the connection broke a rule it
	// cannot recover from (for example too many rate-limit violations).
	ClosePolicy = 1008
	// CloseInvalidPayload is the standard 1007: a text frame was not valid
	// UTF-8 (RFC 6455 §8.1).
	CloseInvalidPayload = 1007
)
