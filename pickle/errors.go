package pickle

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
)

// ErrLimit is wrapped by every error caused by a decoder limit (nesting
// depth, memo size, container length, long-integer digits, object count,
// input size). Test with errors.Is(err, ErrLimit).
var ErrLimit = errors.New("pickle: decoder limit exceeded")

// LimitError reports a decoder limit that a pickle exceeded: which one
// (the DecOptions field) and its value. It matches ErrLimit.
type LimitError struct {
	Limit string // the DecOptions field: "MaxAlloc", "MaxObjects", "MaxDepth"
	Max   int64  // the limit in force
	Msg   string // what went past it
}

func (e *LimitError) Error() string {
	return "pickle: " + e.Msg + " (" + e.Limit + " " + strconv.FormatInt(e.Max, 10) + ")"
}

// Is reports whether target is ErrLimit.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// ErrTruncated is wrapped by a *SyntaxError when the input ends before STOP
// or in the middle of an opcode's argument.
var ErrTruncated = errors.New("pickle data was truncated")

// ErrUnsupported is wrapped when the pickle uses a feature the decoder
// refuses by design: persistent ids (PERSID, BINPERSID) and out-of-band
// buffers (NEXT_BUFFER, READONLY_BUFFER).
var ErrUnsupported = errors.New("pickle: unsupported opcode")

// SyntaxError describes malformed pickle data: where (byte offset of the
// opcode from the start of the pickle, and the opcode) and what.
type SyntaxError struct {
	Offset int64 // offset of the opcode
	Op     byte  // the opcode byte (0 if the error is not tied to one)
	Msg    string
	Err    error // wrapped cause (ErrTruncated, ErrLimit, ErrUnsupported, ...), may be nil
}

func (e *SyntaxError) Error() string {
	name := opName(e.Op)
	if e.Err != nil && e.Msg == "" {
		return fmt.Sprintf("pickle: at offset %d (opcode %s): %v", e.Offset, name, e.Err)
	}
	if e.Err != nil {
		return fmt.Sprintf("pickle: at offset %d (opcode %s): %s: %v", e.Offset, name, e.Msg, e.Err)
	}
	return fmt.Sprintf("pickle: at offset %d (opcode %s): %s", e.Offset, name, e.Msg)
}

// Unwrap returns the cause.
func (e *SyntaxError) Unwrap() error { return e.Err }

// UnmarshalTypeError reports a decoded Python value that cannot be stored
// in a Go value of the given type. Field is the path to it from the top
// ("Items[3].Name", "[\"key\"]"). Offset is the end offset of the pickle
// that held it (values are converted after the whole pickle is parsed).
type UnmarshalTypeError struct {
	Value  string       // the Python value's type ("str", "int 300", "int of 14285 bits" past 4300 digits, ...)
	Type   reflect.Type // the Go type it could not be assigned to
	Offset int64
	Field  string
	Msg    string // extra detail, e.g. "overflows int8"
}

func (e *UnmarshalTypeError) Error() string {
	s := "pickle: cannot unmarshal " + e.Value + " into Go "
	if e.Field != "" {
		s += "value " + e.Field + " of type "
	} else {
		s += "value of type "
	}
	s += e.Type.String()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// InvalidUnmarshalError is returned for a nil or non-pointer Unmarshal target.
type InvalidUnmarshalError struct {
	Type reflect.Type
}

func (e *InvalidUnmarshalError) Error() string {
	if e.Type == nil {
		return "pickle: Unmarshal(nil)"
	}
	if e.Type.Kind() != reflect.Pointer {
		return "pickle: Unmarshal(non-pointer " + e.Type.String() + ")"
	}
	return "pickle: Unmarshal(nil " + e.Type.String() + ")"
}

// UnsupportedTypeError is returned by Marshal for a Go value it cannot
// encode: channels, functions, unsafe pointers. (Complex numbers are
// supported; they encode as builtins.complex(re, im).)
type UnsupportedTypeError struct {
	Type reflect.Type
}

func (e *UnsupportedTypeError) Error() string {
	return "pickle: unsupported type: " + e.Type.String()
}

// UnsupportedValueError is returned by Marshal for a value it cannot
// encode: a string that is not UTF-8, a cycle that a pickle cannot express,
// nesting deeper than EncOptions.MaxDepth.
type UnsupportedValueError struct {
	Value reflect.Value
	Str   string
}

func (e *UnsupportedValueError) Error() string {
	return "pickle: unsupported value: " + e.Str
}

// MarshalerError wraps an error returned by a Marshaler or Unmarshaler.
type MarshalerError struct {
	Type reflect.Type
	Err  error
	op   string
}

func (e *MarshalerError) Error() string {
	op := e.op
	if op == "" {
		op = "MarshalPickle"
	}
	return "pickle: error calling " + op + " for type " + e.Type.String() + ": " + e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *MarshalerError) Unwrap() error { return e.Err }
