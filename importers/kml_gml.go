package importers

// What the KML and GML readers share: a decoder, a small in-memory tree of
// the one feature being read, and the first pass over a file that settles
// the attribute types and the ids before the second pass yields features.
// Both readers go through the file twice, as a GML file without its .xsd
// or a KML file's ExtendedData says nothing about types and the ids can
// be kept only if every feature's can.

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/csdi-hk/csdi/geo"
)

const (
	// maxXMLDepth bounds the nesting inside one feature: GML's deepest
	// simple feature (a MultiSurface of Surfaces of PolygonPatches) needs
	// about ten levels.
	maxXMLDepth = 64
	// maxXMLNodes bounds the elements of one feature, so that a feature of
	// millions of empty elements cannot take gigabytes as a tree.
	maxXMLNodes = 1 << 22
)

// xmlNode is one element of the feature being read.
type xmlNode struct {
	name xml.Name
	attr []xml.Attr
	text string // the character data directly inside the element
	kids []*xmlNode
}

// newXMLDecoder returns a decoder that reads the encodings an XML
// declaration may name (ISO-8859-1, Big5, ...) as well as UTF-8, and the
// HTML entities (&nbsp;) that KML descriptions carry outside CDATA.
func newXMLDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("unsupported XML encoding %q", label)
		}
		return enc.NewDecoder().Reader(input), nil
	}
	return d
}

// readTree reads the element start opened, up to its end.
func readTree(d *xml.Decoder, start xml.StartElement) (*xmlNode, error) {
	root := &xmlNode{name: start.Name, attr: start.Attr}
	stack := []*xmlNode{root}
	text := [][]byte{nil} // of each open element
	nodes := 1
	for len(stack) > 0 {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("<%s> is nested more than %d elements deep", tok.Name.Local, maxXMLDepth)
			}
			if nodes++; nodes > maxXMLNodes {
				return nil, fmt.Errorf("more than %d elements in one feature", maxXMLNodes)
			}
			n := &xmlNode{name: tok.Name, attr: tok.Attr}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
			text = append(text, nil)
		case xml.CharData:
			text[len(text)-1] = append(text[len(text)-1], tok...)
		case xml.EndElement:
			top.text = string(text[len(text)-1])
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		}
	}
	return root, nil
}

// attr returns the value of the attribute with the local name, in any
// namespace.
func (n *xmlNode) attrValue(local string) string {
	for _, a := range n.attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// child returns the first child element with the local name, or nil.
func (n *xmlNode) child(local string) *xmlNode {
	for _, k := range n.kids {
		if k.name.Local == local {
			return k
		}
	}
	return nil
}

// children returns the child elements with the local name.
func (n *xmlNode) children(local string) []*xmlNode {
	var out []*xmlNode
	for _, k := range n.kids {
		if k.name.Local == local {
			out = append(out, k)
		}
	}
	return out
}

// isNil reports xsi:nil="true".
func (n *xmlNode) isNil() bool {
	for _, a := range n.attr {
		if a.Name.Local == "nil" && a.Name.Space == "http://www.w3.org/2001/XMLSchema-instance" {
			v := strings.TrimSpace(a.Value)
			return v == "true" || v == "1"
		}
	}
	return false
}

// xmlSurvey is what the first pass over a file learns for the second.
type xmlSurvey struct {
	types map[string]geo.FieldType // the narrowest type that holds every value of a property
	ids   idSurvey
}

// maxXMLFields bounds the property names a survey keeps types for, so
// that a file of ever new names cannot fill memory; the ones past it are
// strings.
const maxXMLFields = 10000

func (s *xmlSurvey) observe(name, value string) {
	if s.types == nil {
		s.types = map[string]geo.FieldType{}
	}
	t, seen := s.types[name]
	if !seen && len(s.types) >= maxXMLFields {
		return
	}
	v := valueType(strings.TrimSpace(value))
	if v == "" && value != "" { // blanks are text, not a missing value
		v = geo.String
	}
	if !seen {
		s.types[name] = v
		return
	}
	s.types[name] = geo.Widen(t, v)
}

// fieldType is the type of a property's values: the declared one (a KML
// SimpleField or the GML application schema), else the one inferred from
// all values. A property declared a string whose every value is a date or
// date-time is one, as GeoJSON strings are, since GDAL writes its date
// fields into KML as strings.
func (s *xmlSurvey) fieldType(name string, declared geo.FieldType, datesInStrings bool) geo.FieldType {
	inferred := s.types[name]
	switch {
	case declared == geo.String && datesInStrings && (inferred == geo.Date || inferred == geo.DateTime):
		return inferred
	case declared != "":
		return declared
	case inferred == "":
		return geo.String
	}
	return inferred
}

// xmlValue converts the text of a simple-typed element to type t. An empty
// element is an empty string, or nil for other types; a value that does
// not fit t is kept as text.
func xmlValue(s string, t geo.FieldType) (any, error) {
	if err := validUTF8(s); err != nil {
		return nil, err
	}
	switch t {
	case geo.String:
		return s, nil
	case geo.Date, geo.DateTime:
		if tm, ok := parseDeclaredTime(s); ok {
			return tm, nil
		}
	}
	return convertValue(strings.TrimSpace(s), t), nil
}

// idSurvey decides whether features' own ids can be kept: when each is a
// positive number, possibly after a common prefix ("roads.12", as GDAL
// and WFS servers write gml:ids), and they rise strictly through the file,
// which makes them unique without remembering them.
type idSurvey struct {
	prefix string
	last   uint64
	n      int
	bad    bool
}

func (s *idSurvey) observe(id string) {
	s.n++
	if s.bad {
		return
	}
	prefix, v, ok := splitID(id)
	if !ok || v <= s.last || (s.n > 1 && prefix != s.prefix) {
		s.bad = true
		return
	}
	s.prefix, s.last = prefix, v
}

// keep reports whether the ids seen can be used.
func (s *idSurvey) keep() bool { return s.n > 0 && !s.bad }

// splitID splits "roads.12" into "roads." and 12.
func splitID(id string) (string, uint64, bool) {
	id = strings.TrimSpace(id)
	i := len(id)
	for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
		i--
	}
	v, err := strconv.ParseUint(id[i:], 10, 64)
	return id[:i], v, err == nil && v > 0
}

// featureID returns the id of the n-th feature: its own when the survey
// allows, else n.
func (s *xmlSurvey) featureID(id string, n int) uint64 {
	if s.ids.keep() {
		if _, v, ok := splitID(id); ok {
			return v
		}
	}
	return uint64(n)
}

// xmlError adds the line to an error of the decoder.
func xmlError(d *xml.Decoder, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if se.Msg == "unexpected EOF" {
			return fmt.Errorf("the file is truncated: %w", err)
		}
		return err // it names the line
	}
	line, _ := d.InputPos()
	return fmt.Errorf("line %d: %w", line, err)
}
