package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Upcaster turns an event payload of one schema version into the next
// (v → v+1). It must not modify payload in place.
type Upcaster func(payload []byte) ([]byte, error)

// ErrUnknownSchema marks an event whose payload schema this build cannot
// read: newer than SchemaVersion (written by a newer build), or older
// with no upcaster. See *SchemaError.
var ErrUnknownSchema = errors.New("eventlog: unknown payload schema")

// SchemaError reports an event whose payload could not be brought to
// SchemaVersion. It matches ErrUnknownSchema when the version is not
// one this build knows, and wraps the upcaster's error otherwise.
type SchemaError struct {
	Seq    int64 // the event's global sequence
	Schema int   // the version stored in the row
	Err    error // ErrUnknownSchema, or an upcaster's failure
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("event seq %d has payload schema %d (this build reads 0 to %d): %v", e.Seq, e.Schema, SchemaVersion, e.Err)
}

func (e *SchemaError) Unwrap() error { return e.Err }

// upcasters[v] brings a payload from schema v to v+1. Its length is
// SchemaVersion, so raising SchemaVersion without registering the
// upcaster from the previous version does not compile.
var upcasters = [SchemaVersion]Upcaster{
	0: upcastLegacyOps,
}

// Upcast brings payload from schema version from to SchemaVersion by
// running the upcaster chain. A current payload is returned as is; a
// version above SchemaVersion or below 0 fails with ErrUnknownSchema
// rather than being read as something it is not.
func Upcast(from int, payload []byte) ([]byte, error) {
	if from < 0 || from > SchemaVersion {
		return nil, ErrUnknownSchema
	}
	for v := from; v < SchemaVersion; v++ {
		next, err := upcasters[v](payload)
		if err != nil {
			return nil, fmt.Errorf("upcast schema %d to %d: %w", v, v+1, err)
		}
		payload = next
	}
	return payload, nil
}

// legacyComponent is one component of a schema 0 op: exactly one of the
// three fields is set.
type legacyComponent struct {
	Retain *int64  `json:"retain"`
	Insert *string `json:"insert"`
	Delete *int64  `json:"delete"`
}

// upcastLegacyOps turns a schema 0 payload, the object form
// {"ops":[{"retain":n},{"insert":"s"},{"delete":n}]} of the first
// prototype, into the schema 1 wire array [n,"s",-n] (protocol §2).
// Counts must be positive and inserts non-empty, as in schema 1.
func upcastLegacyOps(payload []byte) ([]byte, error) {
	var old struct {
		Ops *[]legacyComponent `json:"ops"`
	}
	if err := json.Unmarshal(payload, &old); err != nil {
		return nil, fmt.Errorf("legacy op: %w", err)
	}
	if old.Ops == nil {
		return nil, errors.New(`legacy op: no "ops" array`)
	}
	out := make([]any, 0, len(*old.Ops))
	for i, c := range *old.Ops {
		comp, err := c.wire()
		if err != nil {
			return nil, fmt.Errorf("legacy op component %d: %w", i, err)
		}
		out = append(out, comp)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("legacy op: encode: %w", err)
	}
	return b, nil
}

// wire is the schema 1 form of one legacy component.
func (c legacyComponent) wire() (any, error) {
	set := 0
	for _, ok := range []bool{c.Retain != nil, c.Insert != nil, c.Delete != nil} {
		if ok {
			set++
		}
	}
	switch {
	case set != 1:
		return nil, errors.New("want exactly one of retain, insert, delete")
	case c.Retain != nil && *c.Retain > 0:
		return *c.Retain, nil
	case c.Delete != nil && *c.Delete > 0:
		return -*c.Delete, nil
	case c.Insert != nil && *c.Insert != "":
		return *c.Insert, nil
	}
	return nil, errors.New("counts must be positive and inserts non-empty")
}
