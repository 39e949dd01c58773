package importers

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// shpFileCode is the big-endian number that starts .shp and .shx files.
const shpFileCode = 9994

// shpHeaderLen is the length of the .shp file header.
const shpHeaderLen = 100

// shapefileOpener opens one part of a shapefile by extension (".shp",
// ".dbf", ".prj", ".cpg") and returns its size; an error wrapping
// os.ErrNotExist means the part is missing.
type shapefileOpener func(ext string) (io.ReadCloser, int64, error)

// readShapefile opens a shapefile for Open: a zip archive holding one or
// more, or the loose files, path naming the .shp or one of its siblings.
func readShapefile(path string, opts Options) ([]Source, func() error, error) {
	if isZipFile(path) {
		return readShapefileZip(path, opts)
	}
	shp := path
	if strings.ToLower(filepath.Ext(path)) != ".shp" {
		if p, err := findSibling(path, ".shp"); err == nil {
			shp = p
		}
	}
	open := func(ext string) (io.ReadCloser, int64, error) {
		p := shp
		if ext != ".shp" {
			var err error
			if p, err = findSibling(shp, ext); err != nil {
				return nil, 0, err
			}
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, 0, fmt.Errorf("open %s: %w", p, err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("stat %s: %w", p, err)
		}
		return f, st.Size(), nil
	}
	src, err := shapefileSource(shp, open, opts)
	if err != nil {
		return nil, nil, err
	}
	return []Source{src}, func() error { return nil }, nil
}

func isZipFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "PK\x03\x04"
}

// readShapefileZip reads every shapefile in a zip archive, or the one
// Options.SourceLayer names (by its base name).
func readShapefileZip(path string, opts Options) ([]Source, func() error, error) {
	z, err := openZip(path, opts)
	if err != nil {
		return nil, nil, err
	}
	shps := z.find(".shp")
	named := len(shps) > 1
	if opts.SourceLayer != "" {
		var names []string
		var picked []*zip.File
		for _, f := range shps {
			names = append(names, shpBase(f))
			if strings.EqualFold(shpBase(f), opts.SourceLayer) {
				picked = append(picked, f)
			}
		}
		if len(picked) == 0 {
			z.Close()
			return nil, nil, fmt.Errorf("%s: no shapefile named %q (--source-layer); it holds %s", path, opts.SourceLayer, strings.Join(names, ", "))
		}
		shps = picked
	}
	if len(shps) == 0 {
		z.Close()
		return nil, nil, fmt.Errorf("%s: no .shp file in the archive; it holds %s", path, z.names())
	}
	var sources []Source
	for _, f := range shps {
		open := func(ext string) (io.ReadCloser, int64, error) {
			g := f
			if ext != ".shp" {
				if g = z.sibling(f, ext); g == nil {
					return nil, 0, fmt.Errorf("%s: no %s next to %s in the archive: %w", path, ext, f.Name, os.ErrNotExist)
				}
			}
			rc, err := z.open(g)
			return rc, int64(g.UncompressedSize64), err
		}
		src, err := shapefileSource(path+": "+f.Name, open, opts)
		if err != nil {
			z.Close()
			return nil, nil, err
		}
		if named {
			src.Name = shpBase(f)
		}
		sources = append(sources, src)
	}
	return sources, z.Close, nil
}

func shpBase(f *zip.File) string {
	b := path.Base(strings.ReplaceAll(f.Name, `\`, "/"))
	return strings.TrimSuffix(b, path.Ext(b))
}

// shapefileSource settles a shapefile's CRS and text encoding and checks
// the headers of its .shp and .dbf, so that a broken file fails in Open
// rather than part way through an import. label names it in errors.
func shapefileSource(label string, open shapefileOpener, opts Options) (Source, error) {
	var declared crs.CRS
	prj, err := readSmallPart(open, ".prj", 64<<10)
	switch {
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return Source{}, fmt.Errorf("%s: %w", label, err)
	case err == nil:
		declared, err = crs.FromWKT(prj)
		if err != nil && opts.CRS == "" {
			return Source{}, fmt.Errorf("%s: the .prj file: %w; pass --crs if you know the CRS", label, err)
		}
	}
	c, err := sourceCRS(label, declared, opts)
	if err != nil {
		return Source{}, err
	}
	var enc textEncoding
	if opts.Encoding != "" {
		if enc, err = lookupEncoding(opts.Encoding); err != nil {
			return Source{}, fmt.Errorf("--encoding: %w", err)
		}
	} else if cpg, err := readSmallPart(open, ".cpg", 1<<10); err == nil {
		if enc, err = lookupEncoding(cpg); err != nil {
			return Source{}, fmt.Errorf("%s: the .cpg file: %w; pass --encoding", label, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return Source{}, fmt.Errorf("%s: %w", label, err)
	}
	sf := shapefile{label: label, open: open, crs: c, enc: enc}
	if err := sf.check(); err != nil {
		return Source{}, err
	}
	return Source{Format: FormatShapefile, CRS: c, Features: sf.features}, nil
}

// readSmallPart reads a small text part of a shapefile whole.
func readSmallPart(open shapefileOpener, ext string, limit int64) (string, error) {
	rc, size, err := open(ext)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	if size > limit {
		return "", fmt.Errorf("the %s file is %d bytes, more than the %d expected", ext, size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit))
	if err != nil {
		return "", fmt.Errorf("read the %s file: %w", ext, err)
	}
	return strings.TrimSpace(string(b)), nil
}

type shapefile struct {
	label string
	open  shapefileOpener
	crs   crs.CRS
	enc   textEncoding
}

// parts opens the .shp and .dbf and reads their headers.
func (sf shapefile) parts() (*shpReader, *dbfReader, func(), error) {
	shpRC, size, err := sf.open(".shp")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", sf.label, err)
	}
	dbfRC, _, err := sf.open(".dbf")
	if err != nil {
		shpRC.Close()
		return nil, nil, nil, fmt.Errorf("%s: the attributes (.dbf) are missing: %w", sf.label, err)
	}
	done := func() { shpRC.Close(); dbfRC.Close() }
	s, err := newShpReader(shpRC, size, sf.label)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	d, err := newDBFReader(dbfRC, strings.TrimSuffix(sf.label, filepath.Ext(sf.label))+".dbf", sf.enc)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return s, d, done, nil
}

func (sf shapefile) check() error {
	_, _, done, err := sf.parts()
	if err == nil {
		done()
	}
	return err
}

// features streams the records of the .shp and the .dbf side by side.
// Records marked deleted in the .dbf are skipped; ids are record numbers.
func (sf shapefile) features(yield func(geo.Feature, error) bool) {
	s, d, done, err := sf.parts()
	if err != nil {
		yield(geo.Feature{}, err)
		return
	}
	defer done()
	var fe *FeatureError
	for {
		g, gerr := s.next()
		if gerr == io.EOF {
			if _, _, err := d.next(); err != io.EOF {
				yield(geo.Feature{}, fmt.Errorf("%s: the .dbf has more records than the %d of the .shp", sf.label, s.n))
			}
			return
		}
		if gerr != nil && !errors.As(gerr, &fe) {
			yield(geo.Feature{}, gerr)
			return
		}
		props, deleted, derr := d.next()
		switch {
		case derr == io.EOF:
			yield(geo.Feature{}, fmt.Errorf("%s: the .shp has more records than the %d of the .dbf", sf.label, d.records))
			return
		case derr != nil && !errors.As(derr, &fe):
			yield(geo.Feature{}, derr)
			return
		case deleted:
			continue
		case gerr != nil:
			if !yield(geo.Feature{}, gerr) {
				return
			}
			continue
		case derr != nil:
			if !yield(geo.Feature{}, derr) {
				return
			}
			continue
		}
		if g, err = toWGS84(sf.crs, g); err != nil {
			if !yield(geo.Feature{}, &FeatureError{File: sf.label, Row: s.n, Err: err}) {
				return
			}
			continue
		}
		if !yield(geo.Feature{ID: uint64(s.n), Geometry: g, Properties: props}, nil) {
			return
		}
	}
}

// shpReader streams the records of a .shp file.
type shpReader struct {
	r      *bufio.Reader
	name   string
	remain int64 // bytes of records left
	n      int   // records read
	buf    []byte
}

// newShpReader reads the header of a .shp file of size bytes.
func newShpReader(r io.Reader, size int64, name string) (*shpReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head := make([]byte, shpHeaderLen)
	if _, err := io.ReadFull(br, head); err != nil {
		return nil, fmt.Errorf("%s: truncated .shp header: %w", name, err)
	}
	if binary.BigEndian.Uint32(head) != shpFileCode || binary.LittleEndian.Uint32(head[28:]) != 1000 {
		return nil, fmt.Errorf("%s: not a .shp file: no shapefile header", name)
	}
	// The header's length is in 16-bit words; past it, some writers leave
	// padding. A header that claims more than the file holds is ignored,
	// so that truncation is reported where the data runs out.
	if declared := int64(binary.BigEndian.Uint32(head[24:])) * 2; declared >= shpHeaderLen && declared < size {
		size = declared
	}
	return &shpReader{r: br, name: name, remain: size - shpHeaderLen}, nil
}

// next returns the geometry of the next record: nil for a null shape,
// io.EOF after the last record, a *FeatureError for a record whose content
// is wrong, and other errors when the file cannot be read further.
func (s *shpReader) next() (orb.Geometry, error) {
	if s.remain <= 0 {
		return nil, io.EOF
	}
	var head [8]byte
	if s.remain < 8 {
		return nil, fmt.Errorf("%s: truncated after record %d", s.name, s.n)
	}
	if _, err := io.ReadFull(s.r, head[:]); err != nil {
		return nil, fmt.Errorf("%s: truncated after record %d: %w", s.name, s.n, err)
	}
	s.remain -= 8
	n := int64(binary.BigEndian.Uint32(head[4:])) * 2
	if n < 4 || n > s.remain {
		return nil, fmt.Errorf("%s: record %d: its length of %d bytes does not fit the %d left in the file (truncated?)", s.name, s.n+1, n, s.remain)
	}
	if int64(cap(s.buf)) < n {
		s.buf = make([]byte, n)
	}
	b := s.buf[:n]
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, fmt.Errorf("%s: record %d: truncated: %w", s.name, s.n+1, err)
	}
	s.remain -= n
	s.n++
	g, err := parseShape(b)
	if err != nil {
		return nil, &FeatureError{File: s.name, Row: s.n, Err: err}
	}
	if g == nil {
		return nil, &FeatureError{File: s.name, Row: s.n, Err: errors.New("null shape: the record has no geometry")}
	}
	return g, nil
}

// Shape types of the ESRI Shapefile Technical Description. Z and M
// variants carry the same x, y layout first; their z and m values follow
// and are not read.
const (
	shpNull        = 0
	shpPoint       = 1
	shpPolyLine    = 3
	shpPolygon     = 5
	shpMultiPoint  = 8
	shpPointZ      = 11
	shpPolyLineZ   = 13
	shpPolygonZ    = 15
	shpMultiPointZ = 18
	shpPointM      = 21
	shpPolyLineM   = 23
	shpPolygonM    = 25
	shpMultiPointM = 28
	shpMultiPatch  = 31
)

// parseShape decodes one record's content; nil for a null shape.
func parseShape(b []byte) (orb.Geometry, error) {
	typ := binary.LittleEndian.Uint32(b)
	switch typ {
	case shpNull:
		return nil, nil
	case shpPoint, shpPointZ, shpPointM:
		if len(b) < 20 {
			return nil, fmt.Errorf("point record of %d bytes is too short", len(b))
		}
		return readPoint(b[4:]), nil
	case shpMultiPoint, shpMultiPointZ, shpMultiPointM:
		if len(b) < 40 {
			return nil, fmt.Errorf("multipoint record of %d bytes is too short", len(b))
		}
		n := int64(binary.LittleEndian.Uint32(b[36:]))
		if 40+16*n > int64(len(b)) {
			return nil, fmt.Errorf("multipoint of %d points does not fit its %d-byte record", n, len(b))
		}
		if n == 0 {
			return nil, errors.New("empty multipoint")
		}
		mp := make(orb.MultiPoint, n)
		for i := range mp {
			mp[i] = readPoint(b[40+16*i:])
		}
		return mp, nil
	case shpPolyLine, shpPolyLineZ, shpPolyLineM, shpPolygon, shpPolygonZ, shpPolygonM:
		parts, err := readParts(b)
		if err != nil {
			return nil, err
		}
		switch typ {
		case shpPolyLine, shpPolyLineZ, shpPolyLineM:
			if len(parts) == 1 {
				return orb.LineString(parts[0]), nil
			}
			mls := make(orb.MultiLineString, len(parts))
			for i, p := range parts {
				mls[i] = orb.LineString(p)
			}
			return mls, nil
		}
		rings := make([]orb.Ring, len(parts))
		for i, p := range parts {
			rings[i] = orb.Ring(p)
		}
		return assemblePolygon(rings), nil
	case shpMultiPatch:
		return nil, errors.New("MultiPatch shapes are not supported")
	}
	return nil, fmt.Errorf("unknown shape type %d", typ)
}

func readPoint(b []byte) orb.Point {
	return orb.Point{
		math.Float64frombits(binary.LittleEndian.Uint64(b)),
		math.Float64frombits(binary.LittleEndian.Uint64(b[8:])),
	}
}

// readParts decodes the parts of a polyline or polygon record; parts
// without points are dropped, as they hold nothing.
func readParts(b []byte) ([][]orb.Point, error) {
	if len(b) < 44 {
		return nil, fmt.Errorf("record of %d bytes is too short for a polyline or polygon", len(b))
	}
	nParts := int64(binary.LittleEndian.Uint32(b[36:]))
	nPoints := int64(binary.LittleEndian.Uint32(b[40:]))
	start := 44 + 4*nParts
	if start+16*nPoints > int64(len(b)) {
		return nil, fmt.Errorf("%d parts of %d points do not fit the %d-byte record", nParts, nPoints, len(b))
	}
	if nParts == 0 || nPoints == 0 {
		return nil, errors.New("empty shape: no parts or no points")
	}
	pts := make([]orb.Point, nPoints)
	for i := range pts {
		pts[i] = readPoint(b[start+16*int64(i):])
	}
	var parts [][]orb.Point
	for i := range nParts {
		from := int64(binary.LittleEndian.Uint32(b[44+4*i:]))
		to := nPoints
		if i+1 < nParts {
			to = int64(binary.LittleEndian.Uint32(b[44+4*(i+1):]))
		}
		if (i == 0 && from != 0) || from > to || to > nPoints {
			return nil, fmt.Errorf("part %d spans points %d to %d of %d", i+1, from, to, nPoints)
		}
		if from < to {
			parts = append(parts, pts[from:to:to])
		}
	}
	return parts, nil
}

// assemblePolygon turns the rings of a shapefile polygon into an orb
// Polygon or MultiPolygon. Shapefile outer rings are clockwise and holes
// counter-clockwise; each hole goes into the smallest outer ring that holds
// it, and the rings are reversed to RFC 7946's counter-clockwise outer
// rings and clockwise holes. A hole in no outer ring becomes a polygon of
// its own, and a file whose rings are all counter-clockwise (a writer that
// ignored the rule) is read as outer rings only: neither loses a ring.
func assemblePolygon(rings []orb.Ring) orb.Geometry {
	var outers []orb.Polygon
	var holes []orb.Ring
	for _, r := range rings {
		if r.Orientation() == orb.CCW {
			holes = append(holes, r)
			continue
		}
		r.Reverse()
		outers = append(outers, orb.Polygon{r})
	}
	if len(outers) == 0 {
		outers = make([]orb.Polygon, len(holes))
		for i, h := range holes {
			outers[i] = orb.Polygon{h}
		}
		holes = nil
	}
	var areas []float64
	if len(outers) > 1 && len(holes) > 0 {
		areas = make([]float64, len(outers))
		for i, p := range outers {
			areas[i] = math.Abs(planar.Area(p[0]))
		}
	}
	for _, h := range holes {
		best := -1
		for i, p := range outers {
			if insideRing(p[0], h) && (best < 0 || areas[i] < areas[best]) {
				best = i
			}
		}
		if best < 0 {
			outers = append(outers, orb.Polygon{h})
			continue
		}
		h.Reverse()
		outers[best] = append(outers[best], h)
	}
	if len(outers) == 1 {
		return outers[0]
	}
	return orb.MultiPolygon(outers)
}

// insideRing reports whether hole lies in outer, judged by its first
// vertex that is not on outer's boundary (holes may touch their ring).
func insideRing(outer, hole orb.Ring) bool {
	if !outer.Bound().Contains(hole.Bound().Min) || !outer.Bound().Contains(hole.Bound().Max) {
		return false
	}
	for _, p := range hole {
		if !onRing(outer, p) {
			return planar.RingContains(outer, p)
		}
	}
	return true
}

func onRing(r orb.Ring, p orb.Point) bool {
	for _, q := range r {
		if q == p {
			return true
		}
	}
	return false
}
