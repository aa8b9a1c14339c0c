// Package pickleops is the one table of pickle opcodes (docs/spec.md,
// section Pickle), as CPython's pickletools describes them: the byte, the
// name, how the argument is encoded, the effect on the unpickler's stack and
// the protocol that introduced the opcode.
//
// Package pickle takes its opcode constants from here (untyped constants, so
// its decoder's switch compiles as before) and mpcat's disassembler the
// descriptions. The table is checked against every installed CPython's
// pickletools.opcodes.
package pickleops

import "slices"

// The opcodes of protocols 0–5, by pickletools name in Go case.
const (
	// Protocol 0 and 1.
	Mark           = '('
	Stop           = '.'
	Pop            = '0'
	PopMark        = '1'
	Dup            = '2'
	Float          = 'F'
	Int            = 'I'
	Binint         = 'J'
	Binint1        = 'K'
	Long           = 'L'
	Binint2        = 'M'
	None           = 'N'
	Persid         = 'P'
	Binpersid      = 'Q'
	Reduce         = 'R'
	String         = 'S'
	Binstring      = 'T'
	ShortBinstring = 'U'
	Unicode        = 'V'
	Binunicode     = 'X'
	Append         = 'a'
	Build          = 'b'
	Global         = 'c'
	Dict           = 'd'
	EmptyDict      = '}'
	Appends        = 'e'
	Get            = 'g'
	Binget         = 'h'
	Inst           = 'i'
	LongBinget     = 'j'
	List           = 'l'
	EmptyList      = ']'
	Obj            = 'o'
	Put            = 'p'
	Binput         = 'q'
	LongBinput     = 'r'
	Setitem        = 's'
	Tuple          = 't'
	EmptyTuple     = ')'
	Setitems       = 'u'
	Binfloat       = 'G'

	// Protocol 2.
	Proto    = 0x80
	Newobj   = 0x81
	Ext1     = 0x82
	Ext2     = 0x83
	Ext4     = 0x84
	Tuple1   = 0x85
	Tuple2   = 0x86
	Tuple3   = 0x87
	Newtrue  = 0x88
	Newfalse = 0x89
	Long1    = 0x8a
	Long4    = 0x8b

	// Protocol 3.
	Binbytes      = 'B'
	ShortBinbytes = 'C'

	// Protocol 4.
	ShortBinunicode = 0x8c
	Binunicode8     = 0x8d
	Binbytes8       = 0x8e
	EmptySet        = 0x8f
	Additems        = 0x90
	Frozenset       = 0x91
	NewobjEx        = 0x92
	StackGlobal     = 0x93
	Memoize         = 0x94
	Frame           = 0x95

	// Protocol 5.
	Bytearray8     = 0x96
	NextBuffer     = 0x97
	ReadonlyBuffer = 0x98
)

// Arg says how an opcode's argument is encoded in the bytes after it
// (pickletools' ArgumentDescriptor).
type Arg uint8

// The argument encodings; String returns pickletools' name of each.
const (
	ArgNone                 Arg = iota // no argument
	ArgUint1                           // 1-byte unsigned
	ArgUint2                           // 2-byte unsigned, little-endian
	ArgInt4                            // 4-byte signed, little-endian
	ArgUint4                           // 4-byte unsigned, little-endian
	ArgUint8                           // 8-byte unsigned, little-endian
	ArgDecimalShort                    // decimal line; "00"/"01" mean False/True
	ArgDecimalLong                     // decimal line with an optional trailing 'L'
	ArgFloatNL                         // repr of a float, on a line
	ArgFloat8                          // 8-byte IEEE double, big-endian
	ArgLong1                           // 1-byte length, then a little-endian two's-complement int
	ArgLong4                           // 4-byte signed length, then the same
	ArgStringNL                        // quoted, backslash-escaped string on a line
	ArgStringNLNoEscape                // unquoted string on a line
	ArgStringNLNoEscapePair            // two such lines (module, name)
	ArgString1                         // 1-byte length, then latin-1 bytes
	ArgString4                         // 4-byte signed length, then latin-1 bytes
	ArgBytes1                          // 1-byte length, then bytes
	ArgBytes4                          // 4-byte unsigned length, then bytes
	ArgBytes8                          // 8-byte unsigned length, then bytes
	ArgBytearray8                      // 8-byte unsigned length, then bytes (a bytearray)
	ArgUnicodeNL                       // raw-unicode-escape text on a line
	ArgUnicode1                        // 1-byte length, then UTF-8
	ArgUnicode4                        // 4-byte unsigned length, then UTF-8
	ArgUnicode8                        // 8-byte unsigned length, then UTF-8
)

var argNames = [...]string{
	ArgNone: "", ArgUint1: "uint1", ArgUint2: "uint2", ArgInt4: "int4", ArgUint4: "uint4",
	ArgUint8: "uint8", ArgDecimalShort: "decimalnl_short", ArgDecimalLong: "decimalnl_long",
	ArgFloatNL: "floatnl", ArgFloat8: "float8", ArgLong1: "long1", ArgLong4: "long4",
	ArgStringNL: "stringnl", ArgStringNLNoEscape: "stringnl_noescape",
	ArgStringNLNoEscapePair: "stringnl_noescape_pair", ArgString1: "string1",
	ArgString4: "string4", ArgBytes1: "bytes1", ArgBytes4: "bytes4", ArgBytes8: "bytes8",
	ArgBytearray8: "bytearray8", ArgUnicodeNL: "unicodestringnl", ArgUnicode1: "unicodestring1",
	ArgUnicode4: "unicodestring4", ArgUnicode8: "unicodestring8",
}

// String returns pickletools' name of the encoding ("uint1",
// "decimalnl_short", …), "" for ArgNone.
func (a Arg) String() string {
	if int(a) < len(argNames) {
		return argNames[a]
	}
	return "?"
}

// Op describes one opcode as pickletools.OpcodeInfo does. The stack effect
// is pickletools' stack_before/stack_after, summarized: an opcode with
// Mark set first pops everything down to and including the topmost MARK
// object; then Pop more items are popped, then Push items pushed (and a
// MARK object, for PushMark).
type Op struct {
	Code     byte
	Name     string // pickletools' name: "PROTO", "SHORT_BINUNICODE", ...
	Proto    int    // the protocol that introduced the opcode
	Arg      Arg
	Mark     bool // takes the items above the topmost MARK
	Pop      int  // items popped (below the MARK, if Mark)
	Push     int  // items pushed, not counting a MARK
	PushMark bool // pushes a MARK (the MARK opcode)
}

// ops lists the opcodes in pickletools' order.
var ops = [...]Op{
	{Code: Int, Name: "INT", Proto: 0, Arg: ArgDecimalShort, Push: 1},
	{Code: Binint, Name: "BININT", Proto: 1, Arg: ArgInt4, Push: 1},
	{Code: Binint1, Name: "BININT1", Proto: 1, Arg: ArgUint1, Push: 1},
	{Code: Binint2, Name: "BININT2", Proto: 1, Arg: ArgUint2, Push: 1},
	{Code: Long, Name: "LONG", Proto: 0, Arg: ArgDecimalLong, Push: 1},
	{Code: Long1, Name: "LONG1", Proto: 2, Arg: ArgLong1, Push: 1},
	{Code: Long4, Name: "LONG4", Proto: 2, Arg: ArgLong4, Push: 1},
	{Code: String, Name: "STRING", Proto: 0, Arg: ArgStringNL, Push: 1},
	{Code: Binstring, Name: "BINSTRING", Proto: 1, Arg: ArgString4, Push: 1},
	{Code: ShortBinstring, Name: "SHORT_BINSTRING", Proto: 1, Arg: ArgString1, Push: 1},
	{Code: Binbytes, Name: "BINBYTES", Proto: 3, Arg: ArgBytes4, Push: 1},
	{Code: ShortBinbytes, Name: "SHORT_BINBYTES", Proto: 3, Arg: ArgBytes1, Push: 1},
	{Code: Binbytes8, Name: "BINBYTES8", Proto: 4, Arg: ArgBytes8, Push: 1},
	{Code: Bytearray8, Name: "BYTEARRAY8", Proto: 5, Arg: ArgBytearray8, Push: 1},
	{Code: NextBuffer, Name: "NEXT_BUFFER", Proto: 5, Push: 1},
	{Code: ReadonlyBuffer, Name: "READONLY_BUFFER", Proto: 5, Pop: 1, Push: 1},
	{Code: None, Name: "NONE", Proto: 0, Push: 1},
	{Code: Newtrue, Name: "NEWTRUE", Proto: 2, Push: 1},
	{Code: Newfalse, Name: "NEWFALSE", Proto: 2, Push: 1},
	{Code: Unicode, Name: "UNICODE", Proto: 0, Arg: ArgUnicodeNL, Push: 1},
	{Code: ShortBinunicode, Name: "SHORT_BINUNICODE", Proto: 4, Arg: ArgUnicode1, Push: 1},
	{Code: Binunicode, Name: "BINUNICODE", Proto: 1, Arg: ArgUnicode4, Push: 1},
	{Code: Binunicode8, Name: "BINUNICODE8", Proto: 4, Arg: ArgUnicode8, Push: 1},
	{Code: Float, Name: "FLOAT", Proto: 0, Arg: ArgFloatNL, Push: 1},
	{Code: Binfloat, Name: "BINFLOAT", Proto: 1, Arg: ArgFloat8, Push: 1},
	{Code: EmptyList, Name: "EMPTY_LIST", Proto: 1, Push: 1},
	{Code: Append, Name: "APPEND", Proto: 0, Pop: 2, Push: 1},
	{Code: Appends, Name: "APPENDS", Proto: 1, Mark: true, Pop: 1, Push: 1},
	{Code: List, Name: "LIST", Proto: 0, Mark: true, Push: 1},
	{Code: EmptyTuple, Name: "EMPTY_TUPLE", Proto: 1, Push: 1},
	{Code: Tuple, Name: "TUPLE", Proto: 0, Mark: true, Push: 1},
	{Code: Tuple1, Name: "TUPLE1", Proto: 2, Pop: 1, Push: 1},
	{Code: Tuple2, Name: "TUPLE2", Proto: 2, Pop: 2, Push: 1},
	{Code: Tuple3, Name: "TUPLE3", Proto: 2, Pop: 3, Push: 1},
	{Code: EmptyDict, Name: "EMPTY_DICT", Proto: 1, Push: 1},
	{Code: Dict, Name: "DICT", Proto: 0, Mark: true, Push: 1},
	{Code: Setitem, Name: "SETITEM", Proto: 0, Pop: 3, Push: 1},
	{Code: Setitems, Name: "SETITEMS", Proto: 1, Mark: true, Pop: 1, Push: 1},
	{Code: EmptySet, Name: "EMPTY_SET", Proto: 4, Push: 1},
	{Code: Additems, Name: "ADDITEMS", Proto: 4, Mark: true, Pop: 1, Push: 1},
	{Code: Frozenset, Name: "FROZENSET", Proto: 4, Mark: true, Push: 1},
	{Code: Pop, Name: "POP", Proto: 0, Pop: 1},
	{Code: Dup, Name: "DUP", Proto: 0, Pop: 1, Push: 2},
	{Code: Mark, Name: "MARK", Proto: 0, PushMark: true},
	{Code: PopMark, Name: "POP_MARK", Proto: 1, Mark: true},
	{Code: Get, Name: "GET", Proto: 0, Arg: ArgDecimalShort, Push: 1},
	{Code: Binget, Name: "BINGET", Proto: 1, Arg: ArgUint1, Push: 1},
	{Code: LongBinget, Name: "LONG_BINGET", Proto: 1, Arg: ArgUint4, Push: 1},
	{Code: Put, Name: "PUT", Proto: 0, Arg: ArgDecimalShort},
	{Code: Binput, Name: "BINPUT", Proto: 1, Arg: ArgUint1},
	{Code: LongBinput, Name: "LONG_BINPUT", Proto: 1, Arg: ArgUint4},
	{Code: Memoize, Name: "MEMOIZE", Proto: 4, Pop: 1, Push: 1},
	{Code: Ext1, Name: "EXT1", Proto: 2, Arg: ArgUint1, Push: 1},
	{Code: Ext2, Name: "EXT2", Proto: 2, Arg: ArgUint2, Push: 1},
	{Code: Ext4, Name: "EXT4", Proto: 2, Arg: ArgInt4, Push: 1},
	{Code: Global, Name: "GLOBAL", Proto: 0, Arg: ArgStringNLNoEscapePair, Push: 1},
	{Code: StackGlobal, Name: "STACK_GLOBAL", Proto: 4, Pop: 2, Push: 1},
	{Code: Reduce, Name: "REDUCE", Proto: 0, Pop: 2, Push: 1},
	{Code: Build, Name: "BUILD", Proto: 0, Pop: 2, Push: 1},
	{Code: Inst, Name: "INST", Proto: 0, Arg: ArgStringNLNoEscapePair, Mark: true, Push: 1},
	{Code: Obj, Name: "OBJ", Proto: 1, Mark: true, Push: 1},
	{Code: Newobj, Name: "NEWOBJ", Proto: 2, Pop: 2, Push: 1},
	{Code: NewobjEx, Name: "NEWOBJ_EX", Proto: 4, Pop: 3, Push: 1},
	{Code: Proto, Name: "PROTO", Proto: 2, Arg: ArgUint1},
	{Code: Stop, Name: "STOP", Proto: 0, Pop: 1},
	{Code: Frame, Name: "FRAME", Proto: 4, Arg: ArgUint8},
	{Code: Persid, Name: "PERSID", Proto: 0, Arg: ArgStringNLNoEscape, Push: 1},
	{Code: Binpersid, Name: "BINPERSID", Proto: 1, Pop: 1, Push: 1},
}

// byCode indexes ops by opcode byte (nil for a byte that is no opcode).
var byCode = func() (t [256]*Op) {
	for i := range ops {
		if t[ops[i].Code] != nil {
			panic("pickleops: opcode listed twice: " + ops[i].Name)
		}
		t[ops[i].Code] = &ops[i]
	}
	return t
}()

// Lookup returns the description of opcode code, or nil if code is no
// opcode of protocols 0–5. The result must not be modified.
func Lookup(code byte) *Op { return byCode[code] }

// All returns (a copy of) every opcode, in pickletools' order.
func All() []Op { return slices.Clone(ops[:]) }
