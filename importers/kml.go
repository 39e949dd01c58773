package importers

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// readKML opens a KML file or a KMZ archive for Open. Every Placemark is a
// feature, however deep in Documents and Folders; Options.SourceLayer keeps
// those inside the Folder or Document of that name. In a KMZ archive the
// KML read is doc.kml (else the first .kml), and the archive's files its
// NetworkLinks point to, as GDAL's LIBKML driver writes one per layer. KML
// coordinates are longitude/latitude on WGS 84 by definition; --crs
// overrides that only for files that break the rule.
func readKML(path string, opts Options) ([]Source, func() error, error) {
	c, err := sourceCRS(path, crs.CRS84, opts)
	if err != nil {
		return nil, nil, err
	}
	k := &kmlFile{path: path, opts: opts, crs: c, open: func(string) (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		return f, nil
	}}
	if isZipFile(path) {
		z, err := openZip(path, opts)
		if err != nil {
			return nil, nil, err
		}
		defer z.Close()
		docs := z.find(".kml")
		if len(docs) == 0 {
			return nil, nil, fmt.Errorf("%s: no .kml file in the KMZ archive; it holds %s", path, z.names())
		}
		k.first = docs[0].Name
		k.entries = map[string]bool{}
		for _, f := range docs {
			k.entries[f.Name] = true
			if strings.EqualFold(f.Name, "doc.kml") {
				k.first = f.Name
			}
		}
		k.open = func(entry string) (io.ReadCloser, error) { return openZipEntry(path, entry, opts) }
	}
	return []Source{{Name: opts.SourceLayer, Format: FormatKML, CRS: c, Features: k.features}}, func() error { return nil }, nil
}

// maxKMLDocuments bounds the documents of a KMZ archive read through its
// NetworkLinks.
const maxKMLDocuments = 1000

type kmlFile struct {
	path    string
	first   string          // the KML document of a KMZ archive; "" for a KML file
	entries map[string]bool // the .kml entries of a KMZ archive
	open    func(entry string) (io.ReadCloser, error)
	opts    Options
	crs     crs.CRS
}

// label names a document of the file in errors.
func (k *kmlFile) label(entry string) string {
	if entry == "" {
		return k.path
	}
	return fmt.Sprintf("%s (%s)", k.path, entry)
}

// openZipEntry opens an entry of a zip archive; closing it closes the
// archive.
func openZipEntry(path, entry string, opts Options) (io.ReadCloser, error) {
	z, err := openZip(path, opts)
	if err != nil {
		return nil, err
	}
	for _, f := range z.files {
		if f.Name == entry {
			rc, err := z.open(f)
			if err != nil {
				z.Close()
				return nil, err
			}
			return struct {
				io.Reader
				io.Closer
			}{rc, closers{rc, z}}, nil
		}
	}
	z.Close()
	return nil, fmt.Errorf("%s: no entry %q", path, entry)
}

type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// kmlWalk is one pass over a KML file.
type kmlWalk struct {
	fn func(w *kmlWalk, pm *xmlNode, n int) bool
	n  int // placemarks selected so far
	// schemas maps "#id" and the name of each <Schema> to the types of
	// its SimpleFields.
	schemas map[string]map[string]geo.FieldType
	folders []string // the names of Folders and Documents seen
	matched bool     // a Folder or Document has the name --source-layer gives
	links   []string // archive entries that NetworkLinks point to
	stopped bool     // fn returned false
}

// walk calls fn with every Placemark selected, numbered from 1, until fn
// returns false.
func (k *kmlFile) walk(fn func(w *kmlWalk, pm *xmlNode, n int) bool) (*kmlWalk, error) {
	w := &kmlWalk{fn: fn, schemas: map[string]map[string]geo.FieldType{}}
	queue := []string{k.first}
	seen := map[string]bool{k.first: true}
	for len(queue) > 0 && !w.stopped {
		entry := queue[0]
		queue = queue[1:]
		if err := k.walkDocument(w, entry); err != nil {
			return w, err
		}
		for _, l := range w.links {
			if !seen[l] && len(seen) < maxKMLDocuments {
				seen[l] = true
				queue = append(queue, l)
			}
		}
		w.links = w.links[:0]
	}
	return w, nil
}

// walkDocument walks one KML document: the file, or an entry of a KMZ
// archive.
func (k *kmlFile) walkDocument(w *kmlWalk, entry string) error {
	label := k.label(entry)
	rc, err := k.open(entry)
	if err != nil {
		return err
	}
	defer rc.Close()
	d := newXMLDecoder(rc)
	type container struct {
		name string
		end  int // len(stack) when it closes
	}
	var stack []string // open elements
	var containers []container
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: after placemark %d: %w", label, w.n, xmlError(d, err))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			var tree *xmlNode
			switch tok.Name.Local {
			case "Placemark", "Schema", "NetworkLink":
				if tree, err = readTree(d, tok); err != nil {
					return fmt.Errorf("%s: <%s> after placemark %d: %w", label, tok.Name.Local, w.n, xmlError(d, err))
				}
			case "name":
				if len(containers) > 0 && containers[len(containers)-1].end == len(stack) {
					if tree, err = readTree(d, tok); err != nil {
						return fmt.Errorf("%s: <name>: %w", label, xmlError(d, err))
					}
				}
			}
			if tree == nil {
				stack = append(stack, tok.Name.Local)
				if tok.Name.Local == "Document" || tok.Name.Local == "Folder" {
					containers = append(containers, container{end: len(stack)})
				}
				continue
			}
			switch tok.Name.Local {
			case "Placemark":
				if k.opts.SourceLayer == "" || slices.ContainsFunc(containers, func(c container) bool { return strings.EqualFold(c.name, k.opts.SourceLayer) }) {
					w.n++
					if !w.fn(w, tree, w.n) {
						w.stopped = true
						return nil
					}
				}
			case "Schema":
				w.addSchema(tree)
			case "NetworkLink":
				if l := k.link(entry, tree); l != "" {
					w.links = append(w.links, l)
				}
			case "name":
				name := strings.TrimSpace(tree.text)
				containers[len(containers)-1].name = name
				w.folders = append(w.folders, name)
				if strings.EqualFold(name, k.opts.SourceLayer) {
					w.matched = true
				}
			}
		case xml.EndElement:
			if len(containers) > 0 && containers[len(containers)-1].end == len(stack) {
				containers = containers[:len(containers)-1]
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// link returns the KML entry of the archive a NetworkLink in entry points
// to, or "" when it points elsewhere: links to the web, or out of the
// archive, are not followed.
func (k *kmlFile) link(entry string, nl *xmlNode) string {
	if k.entries == nil {
		return ""
	}
	l := nl.child("Link")
	if l == nil {
		l = nl.child("Url") // KML 2.0
	}
	if l == nil || l.child("href") == nil {
		return ""
	}
	href, _, _ := strings.Cut(strings.TrimSpace(l.child("href").text), "#")
	if strings.Contains(href, ":") || strings.HasPrefix(href, "/") {
		return ""
	}
	target := path.Join(path.Dir(entry), href)
	if !k.entries[target] {
		return ""
	}
	return target
}

// kmlType maps a SimpleField type of KML 2.2 onto the feature model.
func kmlType(t string) geo.FieldType {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "string":
		return geo.String
	case "int", "uint", "short", "ushort":
		return geo.Integer
	case "float", "double":
		return geo.Number
	case "bool":
		return geo.Boolean
	}
	return ""
}

func (w *kmlWalk) addSchema(s *xmlNode) {
	fields := map[string]geo.FieldType{}
	for _, f := range s.children("SimpleField") {
		if t := kmlType(f.attrValue("type")); t != "" {
			fields[f.attrValue("name")] = t
		}
	}
	if id := s.attrValue("id"); id != "" {
		w.schemas["#"+id] = fields
	}
	if name := s.attrValue("name"); name != "" {
		w.schemas[name] = fields
	}
}

// schema returns the field types of a SchemaData's schemaUrl: "#id" for a
// schema in the same file, a bare name in old files.
func (w *kmlWalk) schema(url string) map[string]geo.FieldType {
	if s, ok := w.schemas[url]; ok {
		return s
	}
	_, frag, _ := strings.Cut(url, "#")
	return w.schemas["#"+frag]
}

// kmlValue is one ExtendedData value of a placemark.
type kmlValue struct {
	name, text string
	declared   geo.FieldType // from the Schema, or ""
}

// values lists a placemark's ExtendedData: <Data name><value> and
// <SchemaData><SimpleData name>.
func (w *kmlWalk) values(pm *xmlNode) []kmlValue {
	ed := pm.child("ExtendedData")
	if ed == nil {
		return nil
	}
	var out []kmlValue
	for _, kid := range ed.kids {
		switch kid.name.Local {
		case "Data":
			if v := kid.child("value"); v != nil {
				out = append(out, kmlValue{name: kid.attrValue("name"), text: v.text})
			}
		case "SchemaData":
			types := w.schema(kid.attrValue("schemaUrl"))
			for _, sd := range kid.children("SimpleData") {
				name := sd.attrValue("name")
				out = append(out, kmlValue{name: name, text: sd.text, declared: types[name]})
			}
		}
	}
	return out
}

// features makes the two passes: the first settles the types of the
// ExtendedData values and whether the Placemarks' ids can be kept.
func (k *kmlFile) features(yield func(geo.Feature, error) bool) {
	var s xmlSurvey
	// An error in this pass comes again in the second, after the features
	// before it.
	w, err := k.walk(func(w *kmlWalk, pm *xmlNode, _ int) bool {
		s.ids.observe(pm.attrValue("id"))
		for _, v := range w.values(pm) {
			s.observe(v.name, v.text)
		}
		return true
	})
	if k.opts.SourceLayer != "" && err == nil && !w.matched {
		names := strings.Join(w.folders, ", ")
		if names == "" {
			names = "no named Folders"
		}
		yield(geo.Feature{}, fmt.Errorf("%s: no Folder or Document named %q (--source-layer); it has %s", k.path, k.opts.SourceLayer, names))
		return
	}
	_, err = k.walk(func(w *kmlWalk, pm *xmlNode, n int) bool {
		f, err := k.feature(w, &s, pm, n)
		if err != nil {
			return yield(geo.Feature{}, &FeatureError{File: k.path, Row: n, Err: err})
		}
		return yield(f, nil)
	})
	if err != nil {
		yield(geo.Feature{}, err)
	}
}

// feature converts a Placemark: <name> and <description> become the
// properties "name" and "description", the ExtendedData values the rest.
func (k *kmlFile) feature(w *kmlWalk, s *xmlSurvey, pm *xmlNode, n int) (geo.Feature, error) {
	props := map[string]any{}
	for _, key := range []string{"name", "description"} {
		if e := pm.child(key); e != nil {
			if err := validUTF8(e.text); err != nil {
				return geo.Feature{}, fmt.Errorf("<%s>: %w", key, err)
			}
			props[key] = e.text
		}
	}
	for _, v := range w.values(pm) {
		val, err := xmlValue(v.text, s.fieldType(v.name, v.declared, true))
		if err != nil {
			return geo.Feature{}, fmt.Errorf("%q: %w", v.name, err)
		}
		props[v.name] = val
	}
	var g orb.Geometry
	for _, kid := range pm.kids {
		if isKMLGeometry(kid.name.Local) {
			var err error
			if g, err = kmlGeometry(kid, 0); err != nil {
				return geo.Feature{}, err
			}
			break
		}
	}
	if g == nil {
		return geo.Feature{}, errors.New("no geometry (Point, LineString, LinearRing, Polygon or MultiGeometry)")
	}
	g, err := toWGS84(k.crs, g)
	if err != nil {
		return geo.Feature{}, err
	}
	return geo.Feature{ID: s.featureID(pm.attrValue("id"), n), Geometry: g, Properties: props}, nil
}

func isKMLGeometry(local string) bool {
	switch local {
	case "Point", "LineString", "LinearRing", "Polygon", "MultiGeometry":
		return true
	}
	return false
}

// kmlGeometry converts a KML geometry element. A standalone LinearRing is
// a line: KML draws it as one. A MultiGeometry becomes a MultiPoint,
// MultiLineString or MultiPolygon when its members are of one kind, else a
// collection.
func kmlGeometry(e *xmlNode, depth int) (orb.Geometry, error) {
	switch e.name.Local {
	case "Point":
		ps, err := kmlCoordinates(e)
		if err != nil {
			return nil, err
		}
		if len(ps) != 1 {
			return nil, fmt.Errorf("<Point> with %d coordinates", len(ps))
		}
		return ps[0], nil
	case "LineString", "LinearRing":
		ps, err := kmlCoordinates(e)
		return orb.LineString(ps), err
	case "Polygon":
		var p orb.Polygon
		for _, b := range e.kids {
			if b.name.Local != "outerBoundaryIs" && b.name.Local != "innerBoundaryIs" {
				continue
			}
			if (b.name.Local == "outerBoundaryIs") != (len(p) == 0) {
				return nil, errors.New("<Polygon> must have one outerBoundaryIs, before its innerBoundaryIs")
			}
			for _, r := range b.children("LinearRing") {
				ps, err := kmlCoordinates(r)
				if err != nil {
					return nil, err
				}
				p = append(p, ps)
			}
		}
		if len(p) == 0 {
			return nil, errors.New("<Polygon> without an outerBoundaryIs")
		}
		return p, nil
	case "MultiGeometry":
		if depth >= 8 {
			return nil, errors.New("<MultiGeometry> nested too deeply")
		}
		var members []orb.Geometry
		for _, kid := range e.kids {
			if !isKMLGeometry(kid.name.Local) {
				continue // gx:Track, Model
			}
			g, err := kmlGeometry(kid, depth+1)
			if err != nil {
				return nil, err
			}
			if c, ok := g.(orb.Collection); ok {
				members = append(members, c...)
				continue
			}
			members = append(members, g)
		}
		return combine(members)
	}
	return nil, fmt.Errorf("<%s> is not a geometry", e.name.Local)
}

// combine makes one geometry of parts: a Multi* when they are of one kind
// (Multi* parts are merged into it), else a collection.
func combine(parts []orb.Geometry) (orb.Geometry, error) {
	if len(parts) == 0 {
		return nil, errors.New("a multi-geometry without members")
	}
	var mp orb.MultiPoint
	var ml orb.MultiLineString
	var mpoly orb.MultiPolygon
	for _, g := range parts {
		switch g := g.(type) {
		case orb.Point:
			mp = append(mp, g)
		case orb.MultiPoint:
			mp = append(mp, g...)
		case orb.LineString:
			ml = append(ml, g)
		case orb.MultiLineString:
			ml = append(ml, g...)
		case orb.Polygon:
			mpoly = append(mpoly, g)
		case orb.MultiPolygon:
			mpoly = append(mpoly, g...)
		}
	}
	switch {
	case len(mp) > 0 && ml == nil && mpoly == nil:
		return mp, nil
	case ml != nil && mp == nil && mpoly == nil:
		return ml, nil
	case mpoly != nil && mp == nil && ml == nil:
		return mpoly, nil
	}
	return orb.Collection(parts), nil
}

// kmlCoordinates reads the <coordinates> of e: "lon,lat[,alt]" tuples
// separated by whitespace. Spaces after the commas, which some writers
// put there, are allowed.
func kmlCoordinates(e *xmlNode) ([]orb.Point, error) {
	c := e.child("coordinates")
	if c == nil {
		return nil, fmt.Errorf("<%s> without <coordinates>", e.name.Local)
	}
	var ps []orb.Point
	for _, tuple := range strings.Fields(joinCommas(c.text)) {
		parts := strings.Split(tuple, ",")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("<%s>: coordinate %.40q is not lon,lat or lon,lat,alt", e.name.Local, tuple)
		}
		var p orb.Point
		for i := range 2 {
			v, err := strconv.ParseFloat(parts[i], 64)
			if err != nil {
				return nil, fmt.Errorf("<%s>: coordinate %.40q is not a number", e.name.Local, tuple)
			}
			p[i] = v
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("<%s> without coordinates", e.name.Local)
	}
	return ps, nil
}

// joinCommas collapses white space to single spaces and removes it
// around commas.
func joinCommas(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	var last byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' {
			space = true
			continue
		}
		if space && ch != ',' && last != ',' && last != 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(ch)
		last = ch
	}
	return b.String()
}
