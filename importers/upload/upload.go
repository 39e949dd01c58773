// Package upload is the HTTP API through which departments publish their
// layers: a multipart upload creates a layer or replaces its data, the
// import runs in the background, and a job URL reports its progress and,
// at the end, the import report. Writes need a department's bearer token
// (`csdi token create`); a layer belongs to the department that created it.
//
//	POST   /api/layers            multipart file + id, title, ... → 202 {"job", "status_url"}
//	PUT    /api/layers/{id}/data  multipart file + options        → 202 {"job", "status_url"}
//	DELETE /api/layers/{id}                                        → 204
//	GET    /api/imports/{job}                                      → the job, with the report at the end
//
// Job ids are 128-bit random strings: knowing one is what lets a client
// read its status, so that endpoint takes no token.
package upload

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/importers"
)

// Options tune a Handler; the zero value gives the defaults.
type Options struct {
	// MaxBytes is the largest file accepted; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Jobs is how many imports run at once; 0 means 2. More wait.
	Jobs int
	// MaxQueued is how many imports may wait; beyond it uploads get 503.
	// 0 means 16.
	MaxQueued int
	// TempDir holds uploads until their import ends; "" is os.TempDir().
	// New removes the uploads that a process which ended without cleaning
	// up (killed, crashed) left there.
	TempDir string
	// KeepJobs is how long a finished job can still be read; 0 means 24h.
	KeepJobs time.Duration
	Log      *slog.Logger
}

// DefaultMaxBytes is the upload limit when Options.MaxBytes is 0.
const DefaultMaxBytes = 1 << 30

// Handler serves the upload API and runs its imports.
type Handler struct {
	cat    *catalog.Catalog
	opts   Options
	log    *slog.Logger
	ctx    context.Context // of the jobs; Close cancels it
	cancel context.CancelFunc
	slots  chan struct{} // one per import that may run
	wg     sync.WaitGroup

	mu     sync.Mutex
	jobs   map[string]*job
	busy   map[string]string // layer id -> its queued or running job
	queued int
}

// New returns a Handler over cat, whose store keeps the layers and tokens.
func New(cat *catalog.Catalog, opts Options) *Handler {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Jobs <= 0 {
		opts.Jobs = 2
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 16
	}
	if opts.KeepJobs <= 0 {
		opts.KeepJobs = 24 * time.Hour
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	sweepSpool(opts.TempDir, opts.Log)
	ctx, cancel := context.WithCancel(context.Background())
	return &Handler{cat: cat, opts: opts, log: opts.Log, ctx: ctx, cancel: cancel,
		slots: make(chan struct{}, opts.Jobs), jobs: map[string]*job{}, busy: map[string]string{}}
}

// Register adds the API's routes to e.
func (h *Handler) Register(e *echo.Echo) {
	e.POST("/api/layers", h.create)
	e.PUT("/api/layers/:id/data", h.replace)
	e.DELETE("/api/layers/:id", h.delete)
	e.GET("/api/imports/:job", h.status)
}

// Close cancels the imports that are queued or running, which then write
// nothing, and waits for them to end.
func (h *Handler) Close() {
	h.cancel()
	h.wg.Wait()
}

// NewToken returns a new upload token: 32 random bytes in base64url after
// "csdi_", a prefix that tells people and secret scanners what it is.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return "csdi_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken is what a store keeps of a token (catalog.Store.CreateToken).
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// apiError is the body of every error response.
type apiError struct {
	Error string `json:"error"`
}

func fail(c echo.Context, code int, format string, a ...any) error {
	return c.JSON(code, apiError{fmt.Sprintf(format, a...)})
}

// department authenticates the request: the department of its bearer
// token, or an error response already sent.
func (h *Handler) department(c echo.Context) (string, bool, error) {
	if !h.cat.Ready() {
		// Until the layers are in memory, which exist is not known.
		c.Response().Header().Set("Retry-After", "5")
		return "", false, fail(c, http.StatusServiceUnavailable, "the layers are still loading; try again in a few seconds")
	}
	auth := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, token, _ := strings.Cut(auth, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="csdi"`)
		return "", false, fail(c, http.StatusUnauthorized, "this needs a department's upload token: Authorization: Bearer TOKEN (csdi token create --department NAME)")
	}
	dept, err := h.cat.Store().TokenDepartment(c.Request().Context(), HashToken(token))
	if errors.Is(err, catalog.ErrNotFound) {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="csdi", error="invalid_token"`)
		return "", false, fail(c, http.StatusUnauthorized, "the token is not valid: unknown or revoked")
	}
	if err != nil {
		h.log.ErrorContext(c.Request().Context(), "check upload token", "err", err)
		return "", false, fail(c, http.StatusServiceUnavailable, "cannot check the token now: the store is unreachable")
	}
	return dept, true, nil
}

// owned checks that dept owns layer id: the layer's info, or an error
// response already sent.
func (h *Handler) owned(c echo.Context, id, dept string) (catalog.LayerInfo, bool, error) {
	l, ok := h.cat.Layer(id)
	if !ok {
		return catalog.LayerInfo{}, false, fail(c, http.StatusNotFound, "no layer %q", id)
	}
	if l.Info.Department != dept {
		owner := "no department"
		if l.Info.Department != "" {
			owner = "department " + strconv.Quote(l.Info.Department)
		}
		return catalog.LayerInfo{}, false, fail(c, http.StatusForbidden, "layer %q belongs to %s, and the token is of %q", id, owner, dept)
	}
	return l.Info, true, nil
}

func (h *Handler) create(c echo.Context) error {
	dept, ok, err := h.department(c)
	if !ok {
		return err
	}
	up, ok, err := h.receive(c)
	if !ok {
		return err
	}
	id := up.fields["id"]
	if err := catalog.ValidateID(id); err != nil {
		up.remove()
		return fail(c, http.StatusBadRequest, "field id: %v", err)
	}
	if _, exists := h.cat.Layer(id); exists {
		up.remove()
		return fail(c, http.StatusConflict, "layer %q exists: replace its data with PUT /api/layers/%s/data", id, id)
	}
	return h.start(c, up, id, dept, true)
}

func (h *Handler) replace(c echo.Context) error {
	dept, ok, err := h.department(c)
	if !ok {
		return err
	}
	id := c.Param("id")
	if _, ok, err := h.owned(c, id, dept); !ok {
		return err
	}
	up, ok, err := h.receive(c)
	if !ok {
		return err
	}
	return h.start(c, up, id, dept, false)
}

func (h *Handler) delete(c echo.Context) error {
	dept, ok, err := h.department(c)
	if !ok {
		return err
	}
	id := c.Param("id")
	if _, ok, err := h.owned(c, id, dept); !ok {
		return err
	}
	h.mu.Lock()
	j, busy := h.busy[id]
	h.mu.Unlock()
	if busy {
		return fail(c, http.StatusConflict, "an import into layer %q is queued or running (job %s)", id, j)
	}
	if err := h.cat.Delete(c.Request().Context(), id); err != nil {
		h.log.ErrorContext(c.Request().Context(), "delete layer", "layer", id, "err", err)
		return fail(c, http.StatusInternalServerError, "delete layer %q: %v", id, err)
	}
	h.log.InfoContext(c.Request().Context(), "layer deleted", "layer", id, "department", dept)
	return c.NoContent(http.StatusNoContent)
}

// upload is a received multipart upload: its fields and its file, spooled
// to a temporary file.
type upload struct {
	fields map[string]string
	path   string   // the temporary file
	lock   *os.File // open on path and locked while the upload lives
	name   string   // the file's name as sent
	size   int64
}

func (u *upload) remove() { removeSpooled(u.path, u.lock) }

// removeSpooled removes a spooled upload, then lets its lock go: the other
// way round, another process's sweep could see it unlocked and take it.
func removeSpooled(path string, lock *os.File) {
	if path != "" {
		os.Remove(path)
	}
	if lock != nil {
		lock.Close()
	}
}

// maxField is the longest text field accepted; descriptions are the longest.
const maxField = 64 << 10

// receive reads the multipart body: the file part "file" is streamed to a
// temporary file, up to the size limit; every other part is a text field.
func (h *Handler) receive(c echo.Context) (*upload, bool, error) {
	req := c.Request()
	// The fields and the multipart framing come on top of the file.
	req.Body = http.MaxBytesReader(c.Response(), req.Body, h.opts.MaxBytes+1<<20)
	mr, err := req.MultipartReader()
	if err != nil {
		return nil, false, fail(c, http.StatusBadRequest, "want a multipart/form-data body with the file in the part \"file\": %v", err)
	}
	up := &upload{fields: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			up.remove()
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, h.readError(c, err)
		}
		if part.FormName() == "file" {
			if up.path != "" {
				return nil, false, fail(c, http.StatusBadRequest, "more than one part \"file\"")
			}
			if err := h.spool(part, up); err != nil {
				return nil, false, h.readError(c, err)
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxField+1))
		if err != nil {
			return nil, false, h.readError(c, err)
		}
		if len(b) > maxField {
			return nil, false, fail(c, http.StatusBadRequest, "field %q is longer than %d bytes", part.FormName(), maxField)
		}
		up.fields[part.FormName()] = string(b)
	}
	if up.path == "" {
		return nil, false, fail(c, http.StatusBadRequest, "no part \"file\": send the file to import as the multipart part named file")
	}
	if up.size == 0 {
		return nil, false, fail(c, http.StatusBadRequest, "the file %q is empty", up.name)
	}
	ok = true
	return up, true, nil
}

// errTooLarge is spool's error for a file over the limit.
var errTooLarge = errors.New("file too large")

func (h *Handler) spool(part *multipart.Part, up *upload) error {
	up.name = filepath.Base(part.FileName())
	f, path, err := createSpool(h.opts.TempDir, safeExt(up.name))
	if err != nil {
		return spoolError{err}
	}
	// f stays open, holding the lock, until the upload is removed.
	up.path, up.lock = path, f
	n, err := io.Copy(f, io.LimitReader(part, h.opts.MaxBytes+1))
	up.size = n
	if err == nil && n > h.opts.MaxBytes {
		err = errTooLarge
	}
	return err
}

// spoolError is a failure to write the temporary file: the server's
// problem, not the client's.
type spoolError struct{ error }

// safeExt keeps the extension of an uploaded file's name when it is plain
// (".zip", ".gpkg"), for readers that look at it; content decides the format.
func safeExt(name string) string {
	ext := filepath.Ext(name)
	if len(ext) > 10 {
		return ""
	}
	for _, r := range ext[min(1, len(ext)):] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return ""
		}
	}
	return ext
}

func (h *Handler) readError(c echo.Context, err error) error {
	var mbe *http.MaxBytesError
	if errors.Is(err, errTooLarge) || errors.As(err, &mbe) {
		return fail(c, http.StatusRequestEntityTooLarge, "the upload is larger than the limit of %s (csdi serve --max-upload-mb)", size(h.opts.MaxBytes))
	}
	if errors.As(err, new(spoolError)) {
		h.log.ErrorContext(c.Request().Context(), "spool an upload", "err", err)
		return fail(c, http.StatusInternalServerError, "cannot keep the upload: %v", err)
	}
	return fail(c, http.StatusBadRequest, "reading the upload: %v", err)
}

func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// start queues the import of an upload into layer id.
func (h *Handler) start(c echo.Context, up *upload, id, dept string, create bool) error {
	f := up.fields
	strict := false
	if s := f["strict"]; s != "" {
		var err error
		if strict, err = strconv.ParseBool(s); err != nil {
			up.remove()
			return fail(c, http.StatusBadRequest, "field strict: %q is not true or false", s)
		}
	}
	j := &job{
		ID: rand.Text(), Layer: id, create: create, dept: dept, path: up.path, lock: up.lock, State: "queued", Created: time.Now().UTC(),
		meta: catalog.LayerInfo{
			ID: id, Title: f["title"], TitleZH: f["title_zh"], Description: f["description"], DescriptionZH: f["description_zh"],
			Attribution: f["attribution"], Department: dept, CreatedBy: dept, SourceFile: up.name,
		},
		opts: importers.ImportOptions{Strict: strict, Options: importers.Options{
			CRS: f["crs"], SourceLayer: f["source_layer"], Encoding: f["encoding"], X: f["x"], Y: f["y"], Geometry: f["geometry"],
		}},
	}
	j.Progress.Size = up.size
	h.mu.Lock()
	if other, busy := h.busy[id]; busy {
		h.mu.Unlock()
		up.remove()
		return fail(c, http.StatusConflict, "an import into layer %q is already queued or running (job %s)", id, other)
	}
	if h.queued >= h.opts.MaxQueued {
		h.mu.Unlock()
		up.remove()
		return fail(c, http.StatusServiceUnavailable, "too many imports queued; try again later")
	}
	h.prune()
	h.busy[id] = j.ID
	h.jobs[j.ID] = j
	h.queued++
	h.wg.Add(1)
	h.mu.Unlock()
	go h.run(j)

	h.log.InfoContext(c.Request().Context(), "import queued", "job", j.ID, "layer", id, "department", dept, "file", up.name, "bytes", up.size)
	status := "/api/imports/" + j.ID
	c.Response().Header().Set(echo.HeaderLocation, status)
	return c.JSON(http.StatusAccepted, map[string]string{"job": j.ID, "status_url": c.Scheme() + "://" + c.Request().Host + status})
}

// prune forgets finished jobs older than KeepJobs; h.mu is held.
func (h *Handler) prune() {
	for id, j := range h.jobs {
		j.mu.Lock()
		old := !j.Finished.IsZero() && time.Since(j.Finished) > h.opts.KeepJobs
		j.mu.Unlock()
		if old {
			delete(h.jobs, id)
		}
	}
}

func (h *Handler) status(c echo.Context) error {
	h.mu.Lock()
	j, ok := h.jobs[c.Param("job")]
	h.mu.Unlock()
	if !ok {
		return fail(c, http.StatusNotFound, "no import job %q (finished jobs are kept for %s)", c.Param("job"), h.opts.KeepJobs)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return c.JSON(http.StatusOK, j)
}

// job is one import. Its exported fields are what GET /api/imports/{job}
// returns; mu guards them once the job is started.
type job struct {
	mu       sync.Mutex
	ID       string             `json:"job"`
	Layer    string             `json:"layer"`
	State    string             `json:"state"` // queued, running, done, failed
	Progress importers.Progress `json:"progress"`
	Error    string             `json:"error,omitempty"`
	// Report is the import report, once the job has ended (unless it
	// failed before reading: an unknown format, a CRS to name).
	Report   *importers.Report `json:"report,omitempty"`
	Created  time.Time         `json:"created"`
	Started  time.Time         `json:"started,omitzero"`
	Finished time.Time         `json:"finished,omitzero"`

	create bool // the layer must not exist yet
	dept   string
	path   string
	lock   *os.File // see upload.lock
	meta   catalog.LayerInfo
	opts   importers.ImportOptions
}

func (h *Handler) run(j *job) {
	defer h.wg.Done()
	var err error
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-h.ctx.Done():
		err = fmt.Errorf("the server is shutting down: %w", h.ctx.Err())
	}
	h.mu.Lock()
	h.queued--
	h.mu.Unlock()
	if err != nil {
		h.finish(j, nil, err)
		return
	}
	j.mu.Lock()
	j.State, j.Started = "running", time.Now().UTC()
	j.mu.Unlock()

	opts := j.opts
	opts.Progress = func(p importers.Progress) {
		j.mu.Lock()
		j.Progress = p
		j.mu.Unlock()
	}
	reports, err := importers.Import(h.ctx, h.writer(j), j.meta, j.path, opts)
	h.finish(j, reports, err)
}

// writer writes through the catalog, so that the new version is served
// once it is committed, after checking again what was checked when the
// job was queued: the layer may have changed hands since.
func (h *Handler) writer(j *job) importers.Writer {
	return func(ctx context.Context, info catalog.LayerInfo, features iter.Seq2[geo.Feature, error]) (catalog.LayerInfo, error) {
		var old catalog.LayerInfo
		l, exists := h.cat.Layer(info.ID)
		switch {
		case exists && j.create:
			return catalog.LayerInfo{}, fmt.Errorf("layer %q was created by another import meanwhile", info.ID)
		case exists && l.Info.Department != j.dept:
			return catalog.LayerInfo{}, fmt.Errorf("layer %q now belongs to department %q", info.ID, l.Info.Department)
		case exists:
			old = l.Info
		}
		return h.cat.Replace(ctx, importers.MergeInfo(old, info), features)
	}
}

// finish ends a job. Its upload is removed and its layer freed before the
// job reads as ended, so that a client who sees it ended can send the
// next upload for the layer at once, and finds no file left behind.
func (h *Handler) finish(j *job, reports []importers.Report, err error) {
	removeSpooled(j.path, j.lock)
	h.mu.Lock()
	delete(h.busy, j.Layer)
	h.mu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(reports) > 0 {
		j.Report = &reports[0] // one layer: the API refuses files of several
	}
	j.Finished = time.Now().UTC()
	j.State = "done"
	if err != nil {
		j.State, j.Error = "failed", err.Error()
		h.log.Warn("import failed", "job", j.ID, "layer", j.Layer, "err", err)
		return
	}
	j.Progress.Stage = "done"
	for _, r := range reports {
		h.log.Info("import done", "job", j.ID, "layer", r.Layer, "version", r.Version, "features", r.Imported, "rejected", r.Rejected)
	}
}
