package catalog

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/csdi-hk/csdi/geo"
)

// valueSet holds a layer's distinct property values, each once, as the
// Value message of vector_tile.proto (MVT 2.1) that a tile writes for it,
// all in one array. The tile encoder, which writes thousands of values a
// tile, copies bytes: with the values as interfaces it switched on each
// one's type and followed two pointers to reach its bytes, a quarter of a
// z16 tile's build, and each value cost a 16-byte interface and a boxed
// copy besides its bytes. Typed readers (Layer.Value, Props) decode.
//
// MVT has no time type: a time is written as its ISO 8601 text, and its
// time.Time is kept beside in typed, as are values outside the feature
// model, written as fmt.Sprint prints them.
type valueSet struct {
	msgs  []byte
	at    []uint32 // value v is msgs[at[v]:at[v+1]]
	typed map[uint32]any
	// alias maps a value to the earlier one with the same message: a time
	// (or a value outside the model) and a string of the same text are two
	// values for the OGC API but one in a tile.
	alias map[uint32]uint32
}

// Fields of the Value message.
const (
	valString = 1<<3 | 2 // string_value, length-delimited
	valDouble = 3<<3 | 1 // double_value, 64-bit
	valInt    = 4<<3 | 0 // int_value, varint
	valSint   = 6<<3 | 0 // sint_value, zigzag varint
	valBool   = 7<<3 | 0 // bool_value, varint
)

func (s *valueSet) len() int { return len(s.at) - 1 }

// msg is the Value message of value v.
func (s *valueSet) msg(v uint32) []byte { return s.msgs[s.at[v]:s.at[v+1]:s.at[v+1]] }

// scalar decodes value v.
func (s *valueSet) scalar(v uint32) Scalar {
	if x, ok := s.typed[v]; ok {
		return ScalarOf(x)
	}
	m := s.msg(v)
	switch m[0] {
	case valString:
		n, k := binary.Uvarint(m[1:])
		if n == 0 {
			return Scalar{Type: geo.String}
		}
		// msgs is never written once the layer is built, so the string
		// can share its bytes: a page of features reads thousands.
		return Scalar{Type: geo.String, Str: unsafe.String(&m[1+k], int(n))}
	case valDouble:
		return Scalar{Type: geo.Number, Num: math.Float64frombits(binary.LittleEndian.Uint64(m[1:]))}
	case valInt:
		u, _ := binary.Uvarint(m[1:])
		return Scalar{Type: geo.Integer, Int: int64(u)}
	case valSint:
		u, _ := binary.Uvarint(m[1:])
		return Scalar{Type: geo.Integer, Int: int64(u>>1) ^ -int64(u&1)}
	case valBool:
		return Scalar{Type: geo.Boolean, Bool: m[1] == 1}
	}
	panic(fmt.Sprintf("catalog: value %d has tag %#x", v, m[0]))
}

// Scalar is a property value without the interface that Layer.Value puts
// it in, which costs an allocation for most values (the layer keeps them
// as bytes): the OGC API's encoder reads thousands a page. Type says which
// field holds it; Any holds a time (Date, DateTime) and a value outside the
// feature model (Type ""); the zero Scalar is a nil value.
type Scalar struct {
	Type geo.FieldType
	Str  string
	Num  float64
	Int  int64
	Bool bool
	Any  any
}

// ScalarOf is v as a Scalar.
func ScalarOf(v any) Scalar {
	switch x := v.(type) {
	case string:
		return Scalar{Type: geo.String, Str: x}
	case float64:
		return Scalar{Type: geo.Number, Num: x}
	case int64:
		return Scalar{Type: geo.Integer, Int: x}
	case bool:
		return Scalar{Type: geo.Boolean, Bool: x}
	}
	t, _ := geo.TypeOf(v)
	return Scalar{Type: t, Any: v}
}

// Value is the scalar in an interface, as Layer.Value returns it.
func (s Scalar) Value() any {
	switch s.Type {
	case geo.String:
		return s.Str
	case geo.Number:
		return s.Num
	case geo.Integer:
		return s.Int
	case geo.Boolean:
		return s.Bool
	}
	return s.Any
}

// interner numbers distinct values and keeps one copy of each, in order of
// first use. Values are the same when they have the same type and the same
// bits: 0.0 and -0.0 differ, and so do two NaNs with different payloads.
// Times, and values outside the feature model, are the same when they print
// the same text: everything the server writes of them (JSON, tiles) is that
// text.
type interner struct {
	vs     valueSet
	strs   map[string]uint32
	texts  map[string]uint32 // times and values outside the model, by text
	floats map[uint64]uint32
	ints   map[int64]uint32
	small  [4096]uint32 // one more than the index of small integers, 0 for none yet
	bools  [2]int32
}

func newInterner(features int) *interner {
	return &interner{
		vs:     valueSet{at: []uint32{0}},
		strs:   map[string]uint32{},
		texts:  map[string]uint32{},
		floats: map[uint64]uint32{},
		// Integer ids, unique to each feature, are the most common
		// property: sized for them, the map is not grown and rehashed
		// twenty times.
		ints:  make(map[int64]uint32, features),
		bools: [2]int32{-1, -1},
	}
}

func (in *interner) value(v any) uint32 {
	switch x := v.(type) {
	case string:
		i, added := lookup(in, in.strs, x, func(b []byte) []byte { return appendString(b, x) })
		if j, ok := in.texts[x]; added && ok {
			in.setAlias(i, j)
		}
		return i
	case float64:
		bits := math.Float64bits(x)
		i, _ := lookup(in, in.floats, bits, func(b []byte) []byte {
			return binary.LittleEndian.AppendUint64(append(b, valDouble), bits)
		})
		return i
	case int64:
		if x >= 0 && x < int64(len(in.small)) {
			// Counts, floors, years: no hashing.
			if in.small[x] == 0 {
				in.small[x] = in.add(appendInt(in.vs.msgs, x)) + 1
			}
			return in.small[x] - 1
		}
		i, _ := lookup(in, in.ints, x, func(b []byte) []byte { return appendInt(b, x) })
		return i
	case bool:
		b := 0
		if x {
			b = 1
		}
		if in.bools[b] < 0 {
			in.bools[b] = int32(in.add(append(in.vs.msgs, valBool, byte(b))))
		}
		return uint32(in.bools[b])
	}
	text := textOf(v)
	i, added := lookup(in, in.texts, text, func(b []byte) []byte { return appendString(b, text) })
	if added {
		if in.vs.typed == nil {
			in.vs.typed = map[uint32]any{}
		}
		in.vs.typed[i] = v
		if j, ok := in.strs[text]; ok {
			in.setAlias(i, j)
		}
	}
	return i
}

// lookup returns the index of the value keyed k in m, and whether it is
// new: then write appended its message to the layer's.
func lookup[K comparable](in *interner, m map[K]uint32, k K, write func([]byte) []byte) (uint32, bool) {
	if i, ok := m[k]; ok {
		return i, false
	}
	i := in.add(write(in.vs.msgs))
	m[k] = i
	return i, true
}

// add ends the message just appended to msgs and returns its index.
func (in *interner) add(msgs []byte) uint32 {
	in.vs.msgs = msgs
	in.vs.at = append(in.vs.at, uint32(len(msgs)))
	return uint32(len(in.vs.at) - 2)
}

func (in *interner) setAlias(later, earlier uint32) {
	if in.vs.alias == nil {
		in.vs.alias = map[uint32]uint32{}
	}
	in.vs.alias[later] = earlier
}

// textOf is how MVT carries a value it has no type for: a time as ISO 8601
// text (which sorts and parses everywhere), a date without its time of day.
func textOf(v any) string {
	if t, ok := v.(time.Time); ok {
		if typ, _ := geo.TypeOf(t); typ == geo.Date {
			return t.Format(time.DateOnly)
		}
		return t.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(append(b, valString), uint64(len(s)))
	return append(b, s...)
}

// appendInt writes a non-negative integer as int_value and a negative one
// as sint_value, which zigzag keeps short.
func appendInt(b []byte, x int64) []byte {
	if x < 0 {
		return binary.AppendUvarint(append(b, valSint), uint64(x<<1)^uint64(x>>63))
	}
	return binary.AppendUvarint(append(b, valInt), uint64(x))
}
