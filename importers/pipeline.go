package importers

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// Writer writes one version of a layer in one transaction:
// catalog.Store.ReplaceLayer, or catalog.Catalog.Replace, which also swaps
// the new version into memory. An error from the features leaves the
// version before in place.
type Writer func(ctx context.Context, info catalog.LayerInfo, features iter.Seq2[geo.Feature, error]) (catalog.LayerInfo, error)

// ImportOptions steer Import.
type ImportOptions struct {
	Options // how to read the file

	// Strict fails the import, writing nothing, if any feature is
	// rejected. The file is still read to the end, so that the report
	// lists the reasons.
	Strict bool
	// AllLayers imports every layer of a file that holds several (a
	// GeoPackage's tables, a zip of shapefiles) into a layer of its own,
	// named by SubLayerIDs. Without it such a file is refused unless
	// Options.SourceLayer picks one.
	AllLayers bool
	// Progress, if set, is called about five times a second while a layer
	// is read, and once when it is written.
	Progress func(Progress)
}

// Progress is how far an import has got.
type Progress struct {
	Layer string `json:"layer"`
	// Stage is "reading" while features are read, then "writing" while
	// the store indexes and commits, then "done".
	Stage string `json:"stage"`
	// Bytes is how much of the file has been read, 0 when that cannot be
	// told (zip archives and GeoPackages are not read front to back);
	// Size is the file's size.
	Bytes    int64 `json:"bytes"`
	Size     int64 `json:"size"`
	Read     int64 `json:"read"`
	Written  int64 `json:"written"` // features passed to the store so far
	Repaired int64 `json:"repaired"`
	Rejected int64 `json:"rejected"`
	// Elapsed is the time since the layer's import started.
	Elapsed time.Duration `json:"-"`
}

// Import reads the file at path (any format Open knows), validates and
// repairs each feature (Validator), and writes each of its layers with
// write as a new version of the layer meta.ID, with meta as metadata:
// SourceCRS, and SourceFile when empty, are filled from the file. A
// feature that cannot be read or repaired is left out and reported, or
// under Strict fails the import; an error that stops the reader fails it
// too. A failed import writes nothing.
//
// It returns one Report per layer written or tried, and stops at the first
// layer that fails.
func Import(ctx context.Context, write Writer, meta catalog.LayerInfo, path string, opts ImportOptions) (reports []Report, err error) {
	if err := catalog.ValidateID(meta.ID); err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	sources, closeSources, err := Open(path, opts.Options)
	if err != nil {
		return nil, err
	}
	// Closed once, on every path; a failure to close fails an import
	// that had not failed already.
	defer func() {
		if cerr := closeSources(); err == nil {
			err = cerr
		}
	}()
	ids := []string{meta.ID}
	switch {
	case len(sources) == 0:
		return nil, fmt.Errorf("%s: no layers to import", path)
	case len(sources) > 1 && !opts.AllLayers:
		return nil, fmt.Errorf("%s holds %d layers (%s): pick one with --source-layer (source_layer in the upload API)", path, len(sources), sourceNames(sources))
	case len(sources) > 1:
		if ids, err = SubLayerIDs(meta.ID, sources); err != nil {
			return nil, err
		}
	}
	for i, src := range sources {
		m := meta
		m.ID = ids[i]
		r, err := importSource(ctx, write, m, src, path, st.Size(), opts)
		reports = append(reports, r)
		if err != nil {
			return reports, err
		}
	}
	return reports, nil
}

func sourceNames(sources []Source) string {
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = strconv.Quote(s.Name)
	}
	return strings.Join(names, ", ")
}

// SubLayerIDs names the layers that the sources of one file go to: id, an
// underscore, and the source's name in lower case with every character
// outside a-z, 0-9 and _ turned into _, cut to the 63 characters of an id.
// A name with no such character left ("道路") gets its position instead.
func SubLayerIDs(id string, sources []Source) ([]string, error) {
	ids := make([]string, len(sources))
	seen := map[string]string{}
	for i, s := range sources {
		name := strings.Trim(strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
				return r
			case r >= 'A' && r <= 'Z':
				return r + 'a' - 'A'
			}
			return '_'
		}, s.Name), "_")
		if name == "" {
			name = strconv.Itoa(i + 1)
		}
		sub := id + "_" + name
		sub = sub[:min(len(sub), 63)]
		if err := catalog.ValidateID(sub); err != nil {
			return nil, fmt.Errorf("layer %q of the file: %w", s.Name, err)
		}
		if other, ok := seen[sub]; ok {
			return nil, fmt.Errorf("layers %q and %q of the file would both become layer %q; import them one at a time with --source-layer", other, s.Name, sub)
		}
		seen[sub] = s.Name
		ids[i] = sub
	}
	return ids, nil
}

// MergeInfo fills the empty fields of next that a person edits from old,
// so that a new import keeps a layer's titles, department and tile options
// (which then must still fit the new data's fields). A layer titled by
// neither gets its id as title. Old is the zero LayerInfo for a new layer.
func MergeInfo(old, next catalog.LayerInfo) catalog.LayerInfo {
	for _, p := range []struct{ dst, src *string }{
		{&next.Title, &old.Title}, {&next.TitleZH, &old.TitleZH},
		{&next.Description, &old.Description}, {&next.DescriptionZH, &old.DescriptionZH},
		{&next.Department, &old.Department}, {&next.Attribution, &old.Attribution},
	} {
		if *p.dst == "" {
			*p.dst = *p.src
		}
	}
	if reflect.DeepEqual(next.Tiles, catalog.TileOptions{}) {
		next.Tiles = old.Tiles
	}
	if next.Title == "" {
		next.Title = next.ID
	}
	return next
}

// importSource imports one layer of a file.
func importSource(ctx context.Context, write Writer, meta catalog.LayerInfo, src Source, path string, size int64, opts ImportOptions) (Report, error) {
	start := time.Now()
	if meta.SourceFile == "" {
		meta.SourceFile = filepath.Base(path)
	}
	meta.SourceCRS = src.CRS.Code()
	rep := Report{Layer: meta.ID, File: meta.SourceFile, Format: src.Format, SourceLayer: src.Name, SourceCRS: meta.SourceCRS, Strict: opts.Strict}
	prog := &progress{fn: opts.Progress, start: start, file: fileWatch{path: path, fd: -1},
		p: Progress{Layer: meta.ID, Stage: "reading", Size: size}}
	var strictErr error
	// read validates the features of the source and passes the good ones
	// to emit until emit returns false; its error is the one that stopped
	// the reader.
	read := func(emit func(geo.Feature) bool) error {
		var v Validator
		for f, err := range src.Features {
			rep.Read++
			if rep.Read&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err != nil {
				var fe *FeatureError
				if !errors.As(err, &fe) {
					return err // the reader cannot go on
				}
				rep.reject(Problem{Feature: int64(fe.Row), Reason: fe.Err.Error()})
				continue
			}
			g, repair, err := v.Validate(f.Geometry)
			if err != nil {
				rep.reject(Problem{Feature: rep.Read, ID: f.ID, Reason: err.Error()})
				continue
			}
			if repair != 0 {
				rep.Repaired++
				if rep.Repairs == nil {
					rep.Repairs = map[string]int64{}
				}
				for _, k := range repair.Kinds() {
					rep.Repairs[k]++
				}
			}
			prog.update(&rep)
			if opts.Strict && rep.Rejected > 0 {
				continue // read on for the report; nothing will be written
			}
			f.Geometry = g
			prog.p.Written++
			if !emit(f) {
				return nil
			}
		}
		return nil
	}
	features := func(yield func(geo.Feature, error) bool) {
		if err := prefetch(read, yield); err != nil {
			yield(geo.Feature{}, err)
			return
		}
		prog.p.Stage = "writing"
		prog.send(&rep)
		if opts.Strict && rep.Rejected > 0 {
			strictErr = fmt.Errorf("%d of %d features rejected and the import is strict: nothing imported", rep.Rejected, rep.Read)
			yield(geo.Feature{}, strictErr)
		}
	}
	info, err := write(ctx, meta, features)
	rep.Seconds = time.Since(start).Seconds()
	if rep.Seconds > 0 {
		rep.FeaturesPerSecond = float64(rep.Read) / rep.Seconds
	}
	if err != nil {
		rep.Error = err.Error()
		if strictErr != nil {
			rep.Error = strictErr.Error()
		}
		return rep, fmt.Errorf("import %s into layer %q: %w", rep.File, meta.ID, err)
	}
	rep.Version, rep.Imported, rep.GeometryType = info.Version, info.FeatureCount, info.GeometryType
	if info.FeatureCount > 0 {
		b := info.Bounds
		rep.BBox = &[4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
	}
	prog.p.Stage = "done"
	prog.send(&rep)
	return rep, nil
}

// prefetch runs read on a goroutine of its own, a few batches of features
// ahead of yield, so that reading a file (mostly parsing) and writing to a
// store (encoding, and the database's own work) go on at the same time.
// It returns read's error once read has ended; when yield stops early,
// read is stopped and waited for, so the file is no longer in use.
func prefetch(read func(emit func(geo.Feature) bool) error, yield func(geo.Feature, error) bool) error {
	const size = 256
	batches := make(chan []geo.Feature, 4)
	stop := make(chan struct{})
	var readErr error
	go func() {
		defer close(batches)
		batch := make([]geo.Feature, 0, size)
		send := func() bool {
			select {
			case batches <- batch:
				batch = make([]geo.Feature, 0, size)
				return true
			case <-stop:
				return false
			}
		}
		readErr = read(func(f geo.Feature) bool {
			batch = append(batch, f)
			return len(batch) < size || send()
		})
		if len(batch) > 0 {
			send()
		}
	}()
	for batch := range batches {
		for _, f := range batch {
			if !yield(f, nil) {
				close(stop)
				for range batches {
				}
				return nil
			}
		}
	}
	return readErr
}

// progress calls ImportOptions.Progress at most every progressEvery.
type progress struct {
	fn    func(Progress)
	p     Progress
	start time.Time
	last  time.Time
	file  fileWatch
}

const progressEvery = 200 * time.Millisecond

func (p *progress) update(r *Report) {
	if p.fn == nil || r.Read&63 != 0 {
		return
	}
	if time.Since(p.last) >= progressEvery {
		p.send(r)
	}
}

func (p *progress) send(r *Report) {
	if p.fn == nil {
		return
	}
	p.last = time.Now()
	p.p.Read, p.p.Repaired, p.p.Rejected = r.Read, r.Repaired, r.Rejected
	p.p.Elapsed = p.last.Sub(p.start)
	if p.p.Stage == "reading" {
		p.p.Bytes = max(p.p.Bytes, p.file.offset())
	} else {
		p.p.Bytes = p.p.Size
	}
	p.fn(p.p)
}

// fileWatch tells how far this process has read a file from the offset of
// a descriptor open on it, which Linux shows in /proc/self/fdinfo. Readers
// open files themselves, so this is the one way to see it without a hook
// in every reader. Files read at random offsets (zip, SQLite) show 0.
type fileWatch struct {
	path  string
	fd    int // the descriptor last found open on path; -1 for none
	tried time.Time
}

func (w *fileWatch) offset() int64 {
	if w.fd >= 0 {
		if off, ok := fdOffset(w.fd, w.path); ok {
			return off
		}
		w.fd = -1
	}
	// Look again at most once a second: the reader may not have opened
	// the file yet, or reads it by ReadAt and never moves the offset.
	if time.Since(w.tried) < time.Second {
		return 0
	}
	w.tried = time.Now()
	abs, err := filepath.Abs(w.path)
	if err != nil {
		return 0
	}
	w.path = abs
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	var best int64
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if off, ok := fdOffset(fd, abs); ok && (w.fd < 0 || off > best) {
			w.fd, best = fd, off
		}
	}
	return best
}

// fdOffset is the offset of descriptor fd if it is open on path.
func fdOffset(fd int, path string) (int64, bool) {
	s := strconv.Itoa(fd)
	if target, err := os.Readlink("/proc/self/fd/" + s); err != nil || target != path {
		return 0, false
	}
	b, err := os.ReadFile("/proc/self/fdinfo/" + s)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "pos:"); ok {
			off, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return off, err == nil
		}
	}
	return 0, false
}
