package importers

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// textEncoding decodes the text of .dbf and CSV files to UTF-8. A nil
// encoding.Encoding means the text is UTF-8 already and is only checked.
type textEncoding struct {
	name string
	enc  encoding.Encoding
}

// lookupEncoding finds an encoding by the names that --encoding, .cpg files
// and code pages use. x/text's Big5 decodes the WHATWG Big5 table, which
// holds the HKSCS-2008 characters, so Big5 and Big5-HKSCS are one decoder.
func lookupEncoding(name string) (textEncoding, error) {
	n := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(name)))
	switch n {
	case "utf8", "65001", "ascii", "usascii":
		return textEncoding{name: "UTF-8"}, nil
	case "big5", "big5hkscs", "hkscs", "cp950", "950", "ms950", "xwindows950", "windows950", "ansi950":
		return textEncoding{name: "Big5-HKSCS", enc: traditionalchinese.Big5}, nil
	case "gbk", "gb2312", "gb18030", "cp936", "936", "ansi936":
		return textEncoding{name: "GB18030", enc: simplifiedchinese.GB18030}, nil
	case "iso88591", "latin1", "88591":
		return textEncoding{name: "ISO-8859-1", enc: charmap.ISO8859_1}, nil
	case "cp1252", "windows1252", "1252", "ansi1252":
		return textEncoding{name: "Windows-1252", enc: charmap.Windows1252}, nil
	}
	return textEncoding{}, fmt.Errorf("text encoding %q is not supported; use utf-8, big5, big5-hkscs, gbk, iso-8859-1 or windows-1252", name)
}

// ldidEncoding maps the language driver id in byte 29 of a .dbf header to
// its encoding, for the few ids Hong Kong files carry.
func ldidEncoding(id byte) (textEncoding, bool) {
	switch id {
	case 0x78: // Big5, code page 950
		e, _ := lookupEncoding("big5")
		return e, true
	case 0x7a: // GBK, code page 936
		e, _ := lookupEncoding("gbk")
		return e, true
	case 0x03, 0x57: // Windows ANSI code page 1252
		e, _ := lookupEncoding("windows-1252")
		return e, true
	}
	return textEncoding{}, false
}

// decode returns b as UTF-8 text or an error naming the encoding.
func (t textEncoding) decode(b []byte) (string, error) {
	if t.enc == nil {
		s := string(b)
		if err := validUTF8(s); err != nil {
			return "", fmt.Errorf("%w; if the file is Big5, pass --encoding big5", err)
		}
		return s, nil
	}
	out, err := t.enc.NewDecoder().Bytes(b)
	if err != nil {
		return "", fmt.Errorf("not valid %s: %w", t.name, err)
	}
	// The decoders write U+FFFD for bytes outside their tables; none of
	// these encodings has a code for U+FFFD itself, so it always means
	// bad input.
	if i := bytes.IndexRune(out, '\ufffd'); i >= 0 {
		return "", fmt.Errorf("bytes %.40q are not valid %s text", b, t.name)
	}
	return string(out), nil
}

// dbfField is one column of a .dbf file.
type dbfField struct {
	name     string
	typ      byte
	offset   int // in the record, after the deletion flag
	length   int
	decimals int
}

// dbfReader streams the records of a dBase III/IV file, the attribute
// table of a shapefile.
type dbfReader struct {
	r       *bufio.Reader
	name    string
	enc     textEncoding
	fields  []dbfField
	records int // the count the header declares
	n       int // records read
	rec     []byte
}

// newDBFReader reads the header of a .dbf. enc is the encoding from
// --encoding or the .cpg file; when it is the zero value the header's
// language driver id decides, else UTF-8.
func newDBFReader(r io.Reader, name string, enc textEncoding) (*dbfReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head := make([]byte, 32)
	if _, err := io.ReadFull(br, head); err != nil {
		return nil, fmt.Errorf("%s: truncated .dbf header: %w", name, err)
	}
	d := &dbfReader{r: br, name: name, enc: enc}
	d.records = int(binary.LittleEndian.Uint32(head[4:]))
	headerLen := int(binary.LittleEndian.Uint16(head[8:]))
	recordLen := int(binary.LittleEndian.Uint16(head[10:]))
	if headerLen < 33 || recordLen < 1 {
		return nil, fmt.Errorf("%s: not a dBase file: header length %d, record length %d", name, headerLen, recordLen)
	}
	if d.enc.name == "" {
		if e, ok := ldidEncoding(head[29]); ok {
			d.enc = e
		} else {
			d.enc = textEncoding{name: "UTF-8"}
		}
	}
	rest := make([]byte, headerLen-32)
	if _, err := io.ReadFull(br, rest); err != nil {
		return nil, fmt.Errorf("%s: truncated .dbf header: %w", name, err)
	}
	seen := map[string]bool{}
	offset := 0
	for i := 0; ; i++ {
		desc := rest[i*32:]
		if len(desc) == 0 || desc[0] == 0x0d {
			break
		}
		if len(desc) < 32 {
			return nil, fmt.Errorf("%s: truncated field descriptor %d", name, i+1)
		}
		raw, _, _ := bytes.Cut(desc[:11], []byte{0})
		fname, err := d.enc.decode(bytes.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: name of field %d: %w", name, i+1, err)
		}
		if fname == "" {
			return nil, fmt.Errorf("%s: field %d has no name", name, i+1)
		}
		// Writers cut names to 10 bytes, which can make two alike;
		// number the later ones rather than lose their values.
		for base, k := fname, 2; seen[fname]; k++ {
			fname = base + "_" + strconv.Itoa(k)
		}
		seen[fname] = true
		f := dbfField{name: fname, typ: desc[11], offset: offset, length: int(desc[16]), decimals: int(desc[17])}
		if f.typ == 'C' {
			// dBase puts the high byte of long character fields' lengths here.
			f.length += int(desc[17]) << 8
			f.decimals = 0
		}
		offset += f.length
		if 1+offset > recordLen {
			return nil, fmt.Errorf("%s: field %q runs past the %d-byte record", name, fname, recordLen)
		}
		d.fields = append(d.fields, f)
	}
	d.rec = make([]byte, recordLen)
	return d, nil
}

// next returns the next record's values; deleted reports a record marked
// deleted, whose values are not decoded. It returns io.EOF after the last
// record the header declares.
func (d *dbfReader) next() (props map[string]any, deleted bool, err error) {
	if d.n >= d.records {
		return nil, false, io.EOF
	}
	if _, err := io.ReadFull(d.r, d.rec); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, false, fmt.Errorf("%s: truncated: the header declares %d records, the file ends in record %d", d.name, d.records, d.n+1)
		}
		return nil, false, fmt.Errorf("%s: record %d: %w", d.name, d.n+1, err)
	}
	d.n++
	if d.rec[0] == '*' {
		return nil, true, nil
	}
	props = make(map[string]any, len(d.fields))
	for _, f := range d.fields {
		v, err := d.value(f, d.rec[1+f.offset:1+f.offset+f.length])
		if err != nil {
			return nil, false, &FeatureError{File: d.name, Row: d.n, Err: fmt.Errorf("field %q: %w", f.name, err)}
		}
		props[f.name] = v
	}
	return props, false, nil
}

// value converts one field. Blank values are null, as in GDAL (which
// writes null as blanks); a number or date that does not parse is kept as
// its text so that nothing is lost.
func (d *dbfReader) value(f dbfField, b []byte) (any, error) {
	switch f.typ {
	case 'N', 'F':
		s := string(bytes.TrimSpace(b))
		if s == "" || strings.Trim(s, "*") == "" || s == "?" {
			return nil, nil // GDAL writes asterisks for numbers too wide for the field
		}
		if f.decimals == 0 {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, nil
			}
		}
		if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(v, 0) {
			return v, nil
		}
		return d.enc.decode([]byte(s))
	case 'L':
		switch strings.TrimSpace(string(b)) {
		case "T", "t", "Y", "y":
			return true, nil
		case "F", "f", "N", "n":
			return false, nil
		case "", "?":
			return nil, nil
		}
	case 'D':
		s := string(bytes.TrimSpace(b))
		if s == "" || s == "00000000" {
			return nil, nil
		}
		if t, err := time.Parse("20060102", s); err == nil {
			return t, nil
		}
	case 'I':
		if len(b) == 4 {
			return int64(int32(binary.LittleEndian.Uint32(b))), nil
		}
	case 'O':
		if len(b) == 8 {
			v := math.Float64frombits(binary.LittleEndian.Uint64(b))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil
			}
			return v, nil
		}
	}
	// Character fields, and anything above that did not parse. Trailing
	// blanks and NULs are padding; leading blanks are kept.
	s, err := d.enc.decode(bytes.TrimRight(b, " \x00"))
	if err != nil || s == "" {
		return nil, err
	}
	return s, nil
}
