package pickle

import "github.com/mpwire/mpwire/internal/pickleops"

// Pickle opcodes, protocols 0–5: the untyped constants of the one opcode
// table, internal/pickleops (docs/spec.md, section Pickle), under the names
// the decoder and encoder use.
const (
	opMark            = pickleops.Mark
	opStop            = pickleops.Stop
	opPop             = pickleops.Pop
	opPopMark         = pickleops.PopMark
	opDup             = pickleops.Dup
	opFloat           = pickleops.Float
	opInt             = pickleops.Int
	opBinint          = pickleops.Binint
	opBinint1         = pickleops.Binint1
	opLong            = pickleops.Long
	opBinint2         = pickleops.Binint2
	opNone            = pickleops.None
	opPersid          = pickleops.Persid
	opBinpersid       = pickleops.Binpersid
	opReduce          = pickleops.Reduce
	opString          = pickleops.String
	opBinstring       = pickleops.Binstring
	opShortBinstring  = pickleops.ShortBinstring
	opUnicode         = pickleops.Unicode
	opBinunicode      = pickleops.Binunicode
	opAppend          = pickleops.Append
	opBuild           = pickleops.Build
	opGlobal          = pickleops.Global
	opDict            = pickleops.Dict
	opEmptyDict       = pickleops.EmptyDict
	opAppends         = pickleops.Appends
	opGet             = pickleops.Get
	opBinget          = pickleops.Binget
	opInst            = pickleops.Inst
	opLongBinget      = pickleops.LongBinget
	opList            = pickleops.List
	opEmptyList       = pickleops.EmptyList
	opObj             = pickleops.Obj
	opPut             = pickleops.Put
	opBinput          = pickleops.Binput
	opLongBinput      = pickleops.LongBinput
	opSetitem         = pickleops.Setitem
	opTuple           = pickleops.Tuple
	opEmptyTuple      = pickleops.EmptyTuple
	opSetitems        = pickleops.Setitems
	opBinfloat        = pickleops.Binfloat
	opProto           = pickleops.Proto
	opNewobj          = pickleops.Newobj
	opExt1            = pickleops.Ext1
	opExt2            = pickleops.Ext2
	opExt4            = pickleops.Ext4
	opTuple1          = pickleops.Tuple1
	opTuple2          = pickleops.Tuple2
	opTuple3          = pickleops.Tuple3
	opNewtrue         = pickleops.Newtrue
	opNewfalse        = pickleops.Newfalse
	opLong1           = pickleops.Long1
	opLong4           = pickleops.Long4
	opBinbytes        = pickleops.Binbytes
	opShortBinbytes   = pickleops.ShortBinbytes
	opShortBinunicode = pickleops.ShortBinunicode
	opBinunicode8     = pickleops.Binunicode8
	opBinbytes8       = pickleops.Binbytes8
	opEmptySet        = pickleops.EmptySet
	opAdditems        = pickleops.Additems
	opFrozenset       = pickleops.Frozenset
	opNewobjEx        = pickleops.NewobjEx
	opStackGlobal     = pickleops.StackGlobal
	opMemoize         = pickleops.Memoize
	opFrame           = pickleops.Frame
	opBytearray8      = pickleops.Bytearray8
	opNextBuffer      = pickleops.NextBuffer
	opReadonlyBuffer  = pickleops.ReadonlyBuffer
)

// opName names an opcode byte for error messages: pickletools' name, or
// the byte itself for one that is no opcode.
func opName(op byte) string {
	if o := pickleops.Lookup(op); o != nil {
		return o.Name
	}
	if op >= 0x20 && op < 0x7f {
		return "'" + string(rune(op)) + "' (unknown)"
	}
	return "0x" + string("0123456789abcdef"[op>>4]) + string("0123456789abcdef"[op&15]) + " (unknown)"
}
