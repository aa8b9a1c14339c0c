// Package pickledis disassembles pickles the way Python's pickletools.dis
// does: the same opcode names, offsets, argument reprs, MARK indentation,
// memo annotations and sanity checks, so that `mpcat dis` output can be
// compared line by line with Python's.
//
// The opcodes (names, argument encodings, stack effects, protocols) come
// from the module's one opcode table, internal/pickleops.
package pickledis

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/mpwire/mpwire/cmd/mpcat/internal/pyrepr"
	"github.com/mpwire/mpwire/internal/pickleops"
	"github.com/mpwire/mpwire/internal/pystr"
	"github.com/mpwire/mpwire/pickle"
)

// Line is one disassembled opcode.
type Line struct {
	Offset int64  // of the opcode byte
	Code   byte   // the opcode byte
	Name   string // pickletools' name (PROTO, FRAME, ...)
	Level  int    // MARK nesting before the opcode (indentation)
	HasArg bool
	Arg    any    // the decoded argument (a generic pickle value)
	Note   string // "(MARK at 13)", "(as 0)", ...
}

// ArgRepr returns repr of the argument as pickletools prints it.
func (l Line) ArgRepr() string {
	if !l.HasArg {
		return ""
	}
	return pyrepr.Repr(l.Arg)
}

// CodeRepr returns the opcode byte as pickletools prints it
// (repr(opcode.code)[1:-1]).
func (l Line) CodeRepr() string {
	s := pyrepr.String(string(pystr.AppendRune(nil, rune(l.Code))))
	return s[1 : len(s)-1]
}

// MaxIndent bounds the MARK levels shown by indentation: pickletools
// indents four spaces per level, so n MARK opcodes (one byte each) would
// print 2n² bytes. Deeper lines show MaxIndent levels of indentation and
// then "+N " for the N levels beyond.
const MaxIndent = 32

// String formats the line as pickletools.dis does (indentation capped at
// MaxIndent levels).
func (l Line) String() string {
	var b strings.Builder
	indent := strings.Repeat("    ", min(l.Level, MaxIndent))
	if l.Level > MaxIndent {
		indent += "+" + strconv.Itoa(l.Level-MaxIndent) + " "
	}
	fmt.Fprintf(&b, "%5d: %-4s %s%s", l.Offset, l.CodeRepr(), indent, l.Name)
	if l.HasArg || l.Note != "" {
		if n := 10 - len(l.Name); n > 0 {
			b.WriteString(strings.Repeat(" ", n))
		}
		if l.HasArg {
			b.WriteString(" " + l.ArgRepr())
		}
		if l.Note != "" {
			b.WriteString(" " + l.Note)
		}
	}
	return b.String()
}

// Result is the disassembly of one pickle.
type Result struct {
	Lines    []Line
	MaxProto int   // highest protocol among the opcodes (-1 if none)
	Len      int64 // bytes consumed (through STOP, or up to the failing opcode)
	// Err is the problem pickletools would raise (ValueError), reported
	// after the lines it could decode; nil for a sound pickle.
	Err error
}

// MaxOutput bounds the bytes Format writes for one pickle; past it the
// lines are replaced by one "... N more lines" line.
const MaxOutput = 64 << 20

// Format writes r as pickletools.dis prints it: the lines, then
// "highest protocol among opcodes = N", or the error. It writes as it
// goes (never holding the whole text) and at most about MaxOutput bytes.
func (r *Result) Format(w io.Writer) error {
	bw := bufio.NewWriter(w)
	written := 0
	for i, l := range r.Lines {
		if written > MaxOutput {
			fmt.Fprintf(bw, "... %d more lines (output bounded at %d bytes)\n", len(r.Lines)-i, MaxOutput)
			break
		}
		s := l.String()
		written += len(s) + 1
		bw.WriteString(s)
		bw.WriteByte('\n')
	}
	if r.Err != nil {
		fmt.Fprintf(bw, "error: %v\n", r.Err)
	} else {
		fmt.Fprintf(bw, "highest protocol among opcodes = %d\n", r.MaxProto)
	}
	return bw.Flush()
}

// ErrNoStop is wrapped when the data ends before a STOP opcode.
var ErrNoStop = errors.New("pickle exhausted before seeing STOP")

// MaxLines bounds the opcodes one Dis call reports, so hostile input cannot
// make the disassembler use unbounded memory.
const MaxLines = 1 << 22

// Dis disassembles the pickle at the start of data, through its STOP
// opcode, with pickletools.dis' sanity checks (stack, marks, memo).
func Dis(data []byte) *Result { return DisAt(data, 0) }

// DisAt disassembles the pickle starting at data[start:]; offsets are
// counted from the start of data (as pickletools counts them from the
// start of the file).
func DisAt(data []byte, start int) *Result {
	d := &disassembler{data: data, pos: start, base: start, memo: map[int64]bool{}}
	d.run()
	return &d.res
}

type disassembler struct {
	data      []byte
	pos       int
	base      int
	res       Result
	stack     []bool // true = markobject
	markstack []int64
	memo      map[int64]bool
}

func (d *disassembler) run() {
	d.res.MaxProto = -1
	defer func() { d.res.Len = int64(d.pos - d.base) }()
	for {
		if d.pos >= len(d.data) {
			d.res.Err = ErrNoStop
			return
		}
		if len(d.res.Lines) >= MaxLines {
			d.res.Err = fmt.Errorf("more than %d opcodes", MaxLines)
			return
		}
		start := d.pos
		code := d.data[d.pos]
		op := pickleops.Lookup(code)
		if op == nil {
			d.res.Err = fmt.Errorf("at position %d, opcode %s unknown", start, pyrepr.Bytes([]byte{code}))
			return
		}
		d.pos++
		arg, hasArg, err := d.readArg(op.Arg)
		if err != nil {
			d.res.Err = err
			d.pos = start
			return
		}
		line := Line{Offset: int64(start), Code: code, Name: op.Name, Level: len(d.markstack), HasArg: hasArg, Arg: arg}
		d.res.MaxProto = max(d.res.MaxProto, op.Proto)
		numtopop := op.Pop
		var errmsg string
		if op.Mark || (code == pickleops.Pop && len(d.stack) > 0 && d.stack[len(d.stack)-1]) {
			if len(d.markstack) > 0 {
				mp := d.markstack[len(d.markstack)-1]
				d.markstack = d.markstack[:len(d.markstack)-1]
				line.Note = fmt.Sprintf("(MARK at %d)", mp)
				for len(d.stack) > 0 && !d.stack[len(d.stack)-1] {
					d.stack = d.stack[:len(d.stack)-1]
				}
				if len(d.stack) > 0 {
					d.stack = d.stack[:len(d.stack)-1]
				}
				if op.Mark {
					numtopop = op.Pop
				} else {
					numtopop = 0
				}
			} else {
				errmsg = "no MARK exists on stack"
				line.Note = errmsg
			}
		}
		switch code {
		case pickleops.Put, pickleops.Binput, pickleops.LongBinput, pickleops.Memoize:
			var idx int64
			argRepr := "None"
			if code == pickleops.Memoize {
				idx = int64(len(d.memo))
				line.Note = fmt.Sprintf("(as %d)", idx)
			} else {
				idx = memoKey(arg)
				argRepr = pyrepr.Repr(arg)
			}
			switch {
			case d.memo[idx]:
				errmsg = fmt.Sprintf("memo key %s already defined", argRepr)
			case len(d.stack) == 0:
				errmsg = "stack is empty -- can't store into memo"
			case d.stack[len(d.stack)-1]:
				errmsg = "can't store markobject in the memo"
			default:
				d.memo[idx] = true
			}
		case pickleops.Get, pickleops.Binget, pickleops.LongBinget:
			if !d.memo[memoKey(arg)] {
				errmsg = fmt.Sprintf("memo key %s has never been stored into", pyrepr.Repr(arg))
			}
		}
		d.res.Lines = append(d.res.Lines, line)
		if errmsg != "" {
			d.res.Err = errors.New(errmsg)
			return
		}
		if len(d.stack) < numtopop {
			d.res.Err = fmt.Errorf("tries to pop %d items from stack with only %d items", numtopop, len(d.stack))
			return
		}
		d.stack = d.stack[:len(d.stack)-numtopop]
		if op.PushMark {
			d.markstack = append(d.markstack, int64(start))
			d.stack = append(d.stack, true)
		}
		for i := 0; i < op.Push; i++ {
			d.stack = append(d.stack, false)
		}
		if code == pickleops.Stop {
			if len(d.stack) != 0 {
				d.res.Err = fmt.Errorf("stack not empty after STOP: %d items", len(d.stack))
			}
			return
		}
	}
}

func memoKey(arg any) int64 {
	switch x := arg.(type) {
	case int64:
		return x
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return math.MinInt64 // a big int: never stored by a real pickler
}

func (d *disassembler) need(n uint64, what string) ([]byte, error) {
	if uint64(len(d.data)-d.pos) < n {
		return nil, fmt.Errorf("expected %d bytes in a %s, but only %d remain", n, what, len(d.data)-d.pos)
	}
	b := d.data[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, nil
}

func (d *disassembler) fixed(n int, what string) ([]byte, error) {
	if len(d.data)-d.pos < n {
		return nil, fmt.Errorf("not enough data in stream to read %s", what)
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *disassembler) line(what string) ([]byte, error) {
	i := bytes.IndexByte(d.data[d.pos:], '\n')
	if i < 0 {
		return nil, fmt.Errorf("no newline found when trying to read %s", what)
	}
	b := d.data[d.pos : d.pos+i]
	d.pos += i + 1
	return b, nil
}

func (d *disassembler) readArg(k pickleops.Arg) (any, bool, error) {
	switch k {
	case pickleops.ArgNone:
		return nil, false, nil
	case pickleops.ArgUint1:
		b, err := d.fixed(1, "uint1")
		if err != nil {
			return nil, false, err
		}
		return int64(b[0]), true, nil
	case pickleops.ArgUint2:
		b, err := d.fixed(2, "uint2")
		if err != nil {
			return nil, false, err
		}
		return int64(binary.LittleEndian.Uint16(b)), true, nil
	case pickleops.ArgInt4:
		b, err := d.fixed(4, "int4")
		if err != nil {
			return nil, false, err
		}
		return int64(int32(binary.LittleEndian.Uint32(b))), true, nil
	case pickleops.ArgUint4:
		b, err := d.fixed(4, "uint4")
		if err != nil {
			return nil, false, err
		}
		return int64(binary.LittleEndian.Uint32(b)), true, nil
	case pickleops.ArgUint8:
		b, err := d.fixed(8, "uint8")
		if err != nil {
			return nil, false, err
		}
		u := binary.LittleEndian.Uint64(b)
		if u > math.MaxInt64 {
			return new(big.Int).SetUint64(u), true, nil
		}
		return int64(u), true, nil
	case pickleops.ArgDecimalShort, pickleops.ArgDecimalLong:
		b, err := d.line("stringnl")
		if err != nil {
			return nil, false, err
		}
		if k == pickleops.ArgDecimalShort {
			if string(b) == "00" {
				return false, true, nil
			}
			if string(b) == "01" {
				return true, true, nil
			}
		} else {
			b = bytes.TrimSuffix(b, []byte("L"))
		}
		v, ok := pyInt(string(b))
		if !ok {
			return nil, false, fmt.Errorf("invalid literal for int() with base 10: %s", pyrepr.Bytes(b))
		}
		return v, true, nil
	case pickleops.ArgFloatNL:
		b, err := d.line("stringnl")
		if err != nil {
			return nil, false, err
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, false, fmt.Errorf("could not convert string to float: %s", pyrepr.Bytes(b))
		}
		return f, true, nil
	case pickleops.ArgFloat8:
		b, err := d.fixed(8, "float8")
		if err != nil {
			return nil, false, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), true, nil
	case pickleops.ArgLong1, pickleops.ArgLong4:
		var n uint64
		if k == pickleops.ArgLong1 {
			b, err := d.fixed(1, "uint1")
			if err != nil {
				return nil, false, err
			}
			n = uint64(b[0])
		} else {
			b, err := d.fixed(4, "int4")
			if err != nil {
				return nil, false, err
			}
			s := int32(binary.LittleEndian.Uint32(b))
			if s < 0 {
				return nil, false, fmt.Errorf("LONG pickle has negative byte count")
			}
			n = uint64(s)
		}
		b, err := d.need(n, "long")
		if err != nil {
			return nil, false, errors.New("not enough data in stream to read long")
		}
		return decodeLong(b), true, nil
	case pickleops.ArgStringNL, pickleops.ArgStringNLNoEscape, pickleops.ArgStringNLNoEscapePair:
		s, err := d.stringnl(k == pickleops.ArgStringNL)
		if err != nil {
			return nil, false, err
		}
		if k == pickleops.ArgStringNLNoEscapePair {
			s2, err := d.stringnl(false)
			if err != nil {
				return nil, false, err
			}
			s = s + " " + s2
		}
		return s, true, nil
	case pickleops.ArgString1, pickleops.ArgString4:
		n, err := d.count(k == pickleops.ArgString1, "string")
		if err != nil {
			return nil, false, err
		}
		what := "string4"
		if k == pickleops.ArgString1 {
			what = "string1"
		}
		b, err := d.need(n, what)
		if err != nil {
			return nil, false, err
		}
		r := make([]byte, 0, len(b))
		for _, c := range b { // latin-1
			r = pystr.AppendRune(r, rune(c))
		}
		return string(r), true, nil
	case pickleops.ArgBytes1, pickleops.ArgBytes4, pickleops.ArgBytes8, pickleops.ArgBytearray8:
		var n uint64
		var what string
		switch k {
		case pickleops.ArgBytes1, pickleops.ArgBytes4:
			c, err := d.count(k == pickleops.ArgBytes1, "bytes")
			if err != nil {
				return nil, false, err
			}
			n, what = c, map[bool]string{true: "bytes1", false: "bytes4"}[k == pickleops.ArgBytes1]
		default:
			b, err := d.fixed(8, "uint8")
			if err != nil {
				return nil, false, err
			}
			n, what = binary.LittleEndian.Uint64(b), "bytes8"
			if k == pickleops.ArgBytearray8 {
				what = "bytearray8"
			}
		}
		b, err := d.need(n, what)
		if err != nil {
			return nil, false, err
		}
		cp := append([]byte{}, b...)
		if k == pickleops.ArgBytearray8 {
			return pickle.ByteArray(cp), true, nil
		}
		return cp, true, nil
	case pickleops.ArgUnicodeNL:
		b, err := d.line("unicodestringnl")
		if err != nil {
			return nil, false, err
		}
		return pystr.DecodeRawUnicodeEscape(b), true, nil
	case pickleops.ArgUnicode1, pickleops.ArgUnicode4, pickleops.ArgUnicode8:
		var n uint64
		what := "unicodestring1"
		switch k {
		case pickleops.ArgUnicode1:
			b, err := d.fixed(1, "uint1")
			if err != nil {
				return nil, false, err
			}
			n = uint64(b[0])
		case pickleops.ArgUnicode4:
			b, err := d.fixed(4, "uint4")
			if err != nil {
				return nil, false, err
			}
			n, what = uint64(binary.LittleEndian.Uint32(b)), "unicodestring4"
		default:
			b, err := d.fixed(8, "uint8")
			if err != nil {
				return nil, false, err
			}
			n, what = binary.LittleEndian.Uint64(b), "unicodestring8"
		}
		b, err := d.need(n, what)
		if err != nil {
			return nil, false, err
		}
		if !validPyUTF8(b) {
			return nil, false, fmt.Errorf("'utf-8' codec can't decode %s", what)
		}
		return string(b), true, nil
	}
	return nil, false, fmt.Errorf("unknown argument kind %d", k)
}

// count reads a 1-byte or 4-byte signed length.
func (d *disassembler) count(one bool, what string) (uint64, error) {
	if one {
		b, err := d.fixed(1, "uint1")
		if err != nil {
			return 0, err
		}
		return uint64(b[0]), nil
	}
	b, err := d.fixed(4, "int4")
	if err != nil {
		return 0, err
	}
	n := int32(binary.LittleEndian.Uint32(b))
	if n < 0 {
		return 0, fmt.Errorf("%s4 byte count < 0: %d", what, n)
	}
	return uint64(n), nil
}

// stringnl reads pickletools' stringnl (quotes stripped and escapes
// undone) or stringnl_noescape (escapes undone, quotes kept).
func (d *disassembler) stringnl(stripQuotes bool) (string, error) {
	b, err := d.line("stringnl")
	if err != nil {
		return "", err
	}
	if stripQuotes {
		ok := false
		for _, q := range []byte{'"', '\''} {
			if len(b) > 0 && b[0] == q {
				if len(b) < 2 || b[len(b)-1] != q {
					return "", fmt.Errorf("strinq quote %s not found at both ends of %s", pyrepr.Bytes([]byte{q}), pyrepr.Bytes(b))
				}
				b = b[1 : len(b)-1]
				ok = true
				break
			}
		}
		if !ok {
			return "", fmt.Errorf("no string quotes around %s", pyrepr.Bytes(b))
		}
	}
	out, err := pystr.EscapeDecode(b)
	if err != nil {
		return "", err
	}
	for _, c := range out {
		if c >= 0x80 {
			return "", errors.New("'ascii' codec can't decode the string")
		}
	}
	return string(out), nil
}

func validPyUTF8(b []byte) bool {
	s := string(b)
	for i := 0; i < len(s); {
		r, n := pystr.NextRune(s, i)
		if r == 0xFFFD && n == 1 {
			return false
		}
		i += n
	}
	return true
}

// pyInt is int(s) for a base-10 string (sign, surrounding whitespace and
// underscores between digits allowed).
func pyInt(s string) (any, bool) {
	s = strings.TrimSpace(s)
	if len(s) > pyrepr.MaxIntDigits+1 {
		return nil, false
	}
	if s == "" || strings.Contains(s, "__") || strings.HasSuffix(s, "_") {
		return nil, false
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || strings.HasPrefix(body, "_") {
		return nil, false
	}
	b, ok := new(big.Int).SetString(strings.ReplaceAll(s, "_", ""), 10)
	if !ok {
		return nil, false
	}
	if b.IsInt64() {
		return b.Int64(), true
	}
	return b, true
}

// decodeLong decodes a little-endian two's-complement integer
// (pickle.decode_long).
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}
