package kernel

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/jupyter"
)

// ErrClosed is what Wait returns when Close or Abandon ended the start
// before the kernel was ready.
var ErrClosed = errors.New("the run ended before the kernel was ready")

// deleteTimeout bounds the clean-up that runs after the run's context was
// cancelled (Ctrl-C): the kernel is still deleted, but not forever. It leaves
// room for a kernel caught restarting (see jupyter.Client.DeleteKernel).
const deleteTimeout = 15 * time.Second

// removeWait bounds removing the run's data directory at Close.
const removeWait = 5 * time.Second

// reclaimWait is Options.ReclaimWait's default.
const reclaimWait = 10 * time.Second

// Options say how to start the kernel.
type Options struct {
	// Client is the gateway's client. When nil, Gateway is called first, in
	// the background like the rest of the start, to get one (a local
	// gateway that takes a moment to come up).
	Client  *jupyter.Client
	Gateway func(ctx context.Context) (*jupyter.Client, error)
	Start   jupyter.StartOptions
	Session jupyter.SessionOptions
	// Files are local paths uploaded to the kernel's working directory, under
	// their base names, before the first cell runs. A different file of the
	// same name there is never replaced, unless Replace.
	Files   []string
	Replace bool
	// Upload is passed to each upload of Files: its Progress and Notice,
	// when set, see them.
	Upload jupyter.UploadOptions
	// DataDir, when set, is a directory of the run's own, relative to the
	// kernel's first working directory: it is made the working directory
	// (and the files go there) before anything runs, so that runs sharing a
	// gateway never see each other's files, and it is removed with the
	// kernel.
	DataDir string
	// OnReady, when set, is called once the kernel is up and the files are
	// in place, with a line describing it. When the gateway is at its kernel
	// limit and Start.Queue lets the start wait, it is also called once
	// before that, with a line saying so (unless Start.Queue.OnWait is set);
	// and when a new kernel did not answer and another is started in its
	// place, with a line saying so.
	OnReady func(msg string)
	// OnKernel, when set, is told the id of each kernel that becomes the
	// handle's (the first, and one that replaced it), once it is ready and
	// before any cell runs.
	OnKernel func(id string)
	// ReclaimWait is how long Close waits for the kernel of a start it
	// cancelled (the gateway had not answered it) to appear, to delete it;
	// 10 s when zero. OnCleanup, when set, is told in a line what Close
	// does about it: before it waits, and whether it deleted the kernel.
	ReclaimWait time.Duration
	OnCleanup   func(msg string)
}

// Handle is a kernel being started, or started. Its methods wait for the
// start to finish.
type Handle struct {
	opts Options
	done chan struct{}
	// closing is closed when Close begins: a start still queueing for a
	// kernel slot gives up then (nothing is being launched yet).
	closing     chan struct{}
	closingOnce sync.Once
	// answered is closed once the first start request has returned (or the
	// start failed before sending one): until then Abandon may wait for
	// the kernel's id.
	answered     chan struct{}
	answeredOnce sync.Once

	// cancel ends the start; Close and Abandon call it, so that they never
	// wait for a start the gateway does not answer.
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	client  *jupyter.Client
	id      string
	session *jupyter.Session
	dataDir string // DataDir's absolute path on the kernel's machine, once made
	err     error
	closed  bool
	// abandoned is a start request that ctx ended before the gateway
	// answered it: the kernel it may launch is deleted at Close.
	abandoned *jupyter.AbandonedStartError

	sent jupyter.UploadProgress // the uploads' bytes and time, summed
}

// Start begins starting a kernel and returns at once. Call Close to delete it,
// whatever happened.
func Start(ctx context.Context, opts Options) *Handle {
	h := &Handle{opts: opts, done: make(chan struct{}), closing: make(chan struct{}), answered: make(chan struct{})}
	ctx, h.cancel = context.WithCancelCause(ctx)
	go func() {
		defer close(h.done)
		defer h.markAnswered()
		h.err = h.start(ctx)
		if h.err != nil && errors.Is(context.Cause(ctx), ErrClosed) && !errors.Is(h.err, ErrClosed) {
			h.err = fmt.Errorf("%w: %w", ErrClosed, h.err)
		}
	}()
	return h
}

func (h *Handle) start(ctx context.Context) error {
	began := time.Now()
	c := h.opts.Client
	if c == nil {
		var err error
		if c, err = h.opts.Gateway(ctx); err != nil {
			return err
		}
	}
	h.mu.Lock()
	h.client = c
	h.mu.Unlock()
	k, err := h.launch(ctx, c)
	if err != nil {
		return err
	}
	if h.opts.OnKernel != nil {
		h.opts.OnKernel(k.ID)
	}
	if h.opts.OnReady != nil {
		msg := fmt.Sprintf("kernel %s (%s) ready in %s", short(k.ID), k.Name, time.Since(began).Round(10*time.Millisecond))
		if n := len(h.opts.Files); n > 0 {
			msg += fmt.Sprintf(", %d data file(s) uploaded", n)
			h.mu.Lock()
			sent := h.sent
			h.mu.Unlock()
			if sent.Done > 0 {
				msg += fmt.Sprintf(" (%s at %s/s)", human.Bytes(sent.Done), human.Bytes(int64(sent.Rate())))
			}
		}
		h.opts.OnReady(msg)
	}
	return nil
}

// startKernel sends the start request, queueing while the gateway is at its
// kernel limit. The request itself outlives ctx (see jupyter.StartKernel);
// the waits between requests end with ctx or when Close begins.
func (h *Handle) startKernel(ctx context.Context, c *jupyter.Client) (jupyter.Kernel, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-h.closing:
			cancel(ErrClosed)
		case <-ctx.Done():
		}
	}()
	opts := h.opts.Start
	if opts.Queue.OnWait == nil {
		opts.Queue.OnWait = h.opts.OnReady
	}
	return c.StartKernel(ctx, opts)
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// Wait blocks until the kernel is ready and returns its session.
func (h *Handle) Wait(ctx context.Context) (*jupyter.Session, error) {
	select {
	case <-h.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if h.err != nil {
		return nil, h.err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.session, nil
}

// ID is the kernel's id once the server has given one ("" before).
func (h *Handle) ID() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.id
}

// Execute runs code once the kernel is ready.
func (h *Handle) Execute(ctx context.Context, code string) (*jupyter.Result, error) {
	s, err := h.Wait(ctx)
	if err != nil {
		return nil, err
	}
	return s.Execute(ctx, code)
}

// ExecuteSilent runs code as a silent cell once the kernel is ready.
func (h *Handle) ExecuteSilent(ctx context.Context, code string) (*jupyter.Result, error) {
	s, err := h.Wait(ctx)
	if err != nil {
		return nil, err
	}
	return s.ExecuteSilent(ctx, code)
}

// Restart restarts the kernel (its variables are lost) and uploads the data
// files again.
func (h *Handle) Restart(ctx context.Context) error {
	s, err := h.Wait(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	c, id := h.client, h.id
	h.mu.Unlock()
	_, gerr := c.GetKernel(ctx, id)
	if gerr == nil {
		if err := s.Restart(ctx); err == nil {
			return h.prepare(ctx, s)
		}
	} else if !errors.Is(gerr, jupyter.ErrKernelNotFound) {
		return fmt.Errorf("restart kernel: %w", gerr)
	}
	// The kernel is gone (the server restarted, or culled or deleted it) or
	// would not restart: a new one takes its place.
	return h.replace(ctx)
}

// replace starts a new kernel in place of the current one, which is deleted
// if it still exists.
func (h *Handle) replace(ctx context.Context) error {
	h.mu.Lock()
	c, old, oldID := h.client, h.session, h.id
	h.mu.Unlock()
	old.Close()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	c.DeleteKernel(dctx, oldID)
	cancel()
	k, err := h.launch(ctx, c)
	if err != nil {
		return err
	}
	if h.opts.OnReady != nil {
		h.opts.OnReady(fmt.Sprintf("kernel %s was gone; new kernel %s started in its place", short(oldID), short(k.ID)))
	}
	if h.opts.OnKernel != nil {
		h.opts.OnKernel(k.ID)
	}
	return nil
}

// maxStarts bounds the kernels launch starts for one kernel: a new kernel
// that never answers is deleted and another started in its place, once.
const maxStarts = 2

// launch starts a kernel on c, connects to it and prepares it, making it the
// handle's kernel. The id is kept as soon as the server gives it, so that
// Close deletes the kernel whatever fails after.
//
// A new kernel that never answers (jupyter.ErrNoAnswer) is deleted and
// another started, once, with a line on OnReady. Servers choose a local
// kernel's ports by binding port 0 and letting go of it, so another process
// can take one before the kernel binds it; ipykernel 6 then fails at start
// and, when the lost port is its IOPub port, its process hangs at exit
// (zmq's context waits for the unclosed socket) instead of ending. The server
// counts the kernel alive and never restarts it. When it is another port,
// the kernel exits and the server restarts it on new ports, but Jupyter
// Server 1.x holds every new connection until its first kernel_info request,
// sent to the old ports, times out (60 s): a new kernel starts sooner.
func (h *Handle) launch(ctx context.Context, c *jupyter.Client) (jupyter.Kernel, error) {
	for starts := 1; ; starts++ {
		k, err := h.startKernel(ctx, c)
		if err != nil {
			var abandoned *jupyter.AbandonedStartError
			if errors.As(err, &abandoned) {
				h.mu.Lock()
				h.abandoned = abandoned
				h.mu.Unlock()
			}
			h.markAnswered()
			return k, err
		}
		h.mu.Lock()
		h.id = k.ID
		h.mu.Unlock()
		h.markAnswered()
		s, err := c.Connect(ctx, k.ID, h.opts.Session)
		if errors.Is(err, jupyter.ErrNoAnswer) && starts < maxStarts && ctx.Err() == nil && h.discard(ctx, c, k.ID) {
			if h.opts.OnReady != nil {
				h.opts.OnReady(fmt.Sprintf("kernel %s did not answer; deleted it, starting another", short(k.ID)))
			}
			continue
		}
		if err != nil {
			return k, err
		}
		h.mu.Lock()
		h.session = s
		h.mu.Unlock()
		return k, h.prepare(ctx, s)
	}
}

// discard deletes the handle's kernel, which is of no use, and reports
// whether it is gone; one that is not stays the handle's, for Close.
func (h *Handle) discard(ctx context.Context, c *jupyter.Client, id string) bool {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if err := c.DeleteKernel(dctx, id); err != nil && !errors.Is(err, jupyter.ErrKernelNotFound) {
		return false
	}
	h.mu.Lock()
	h.id = ""
	h.mu.Unlock()
	return true
}

// prepare marks the kernel's process with the start options' KERNEL_*
// variables (servers that ignore them at start, such as Jupyter Server, then
// still carry the mark `analyst kernels prune` looks for) and uploads the
// data files.
func (h *Handle) prepare(ctx context.Context, s *jupyter.Session) error {
	for _, k := range slices.Sorted(maps.Keys(h.opts.Start.Env)) {
		if err := s.SetEnv(ctx, k, h.opts.Start.Env[k]); err != nil {
			return fmt.Errorf("mark kernel: %w", err)
		}
	}
	if h.opts.DataDir != "" {
		dir, err := s.Chdir(ctx, h.opts.DataDir)
		if err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		h.mu.Lock()
		h.dataDir = dir
		h.mu.Unlock()
	}
	up := h.opts.Upload
	up.Progress = func(p jupyter.UploadProgress) {
		if p.Done == p.Total {
			h.mu.Lock()
			h.sent.Done += p.Done
			h.sent.Elapsed += p.Elapsed
			h.mu.Unlock()
		}
		if h.opts.Upload.Progress != nil {
			h.opts.Upload.Progress(p)
		}
	}
	for _, f := range h.opts.Files {
		name := filepath.Base(f)
		err := s.UploadWith(ctx, f, name, up)
		var fe *jupyter.FileExistsError
		if errors.As(err, &fe) && h.opts.Replace {
			if err = s.Remove(ctx, name); err == nil {
				err = s.UploadWith(ctx, f, name, up)
			}
		}
		if err != nil {
			return fmt.Errorf("upload %s: %w", f, err)
		}
	}
	return nil
}

// Close deletes the kernel, also when ctx is already cancelled: the delete
// gets a few seconds of its own. A start still under way is cancelled; when
// the gateway had not answered it, Close waits up to Options.ReclaimWait
// for the kernel it may still launch, to delete it (see
// jupyter.AbandonedStartError), and says so through Options.OnCleanup.
func (h *Handle) Close(ctx context.Context) error {
	h.closingOnce.Do(func() { close(h.closing) })
	h.cancel(ErrClosed)
	<-h.done
	if err := h.reclaim(ctx); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if h.session != nil {
		if h.dataDir != "" {
			// Best effort, briefly: a dead or stuck kernel's files stay.
			rctx, rcancel := context.WithTimeout(dctx, removeWait)
			h.session.RemoveAll(rctx, h.dataDir)
			rcancel()
		}
		h.session.Close()
	}
	if h.id == "" {
		return nil
	}
	if err := h.client.DeleteKernel(dctx, h.id); err != nil && !errors.Is(err, jupyter.ErrKernelNotFound) {
		return err
	}
	return nil
}

// markAnswered says that the first start request has returned.
func (h *Handle) markAnswered() { h.answeredOnce.Do(func() { close(h.answered) }) }

// Abandon deletes the kernel: the last resort when the process must exit
// now. A start under way is cancelled; the kernel of a start request the
// gateway had not answered is looked for while ctx allows.
func (h *Handle) Abandon(ctx context.Context) {
	h.cancel(ErrClosed)
	select {
	case <-h.answered:
	case <-ctx.Done():
	}
	c, id, abandoned := h.target()
	if id == "" && abandoned == nil {
		// A new kernel that did not answer may have been deleted while
		// the start of another was in flight (see launch): the cancelled
		// start ends at once and says which.
		select {
		case <-h.done:
		case <-ctx.Done():
		}
		c, id, abandoned = h.target()
	}
	switch {
	case id != "":
		c.DeleteKernel(ctx, id)
	case abandoned != nil:
		abandoned.Reclaim(ctx)
	}
}

// target returns what Abandon deletes: the client and the kernel's id, or
// the start request that was abandoned.
func (h *Handle) target() (*jupyter.Client, string, *jupyter.AbandonedStartError) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.client, h.id, h.abandoned
}

// reclaim deletes the kernel of a start request that was abandoned, if it
// appears within Options.ReclaimWait, and says what it does.
func (h *Handle) reclaim(ctx context.Context) error {
	h.mu.Lock()
	abandoned := h.abandoned
	h.mu.Unlock()
	if abandoned == nil {
		return nil
	}
	return Reclaim(ctx, abandoned, h.opts.ReclaimWait, h.opts.OnCleanup, PruneLater)
}

// PruneLater is what Reclaim says removes the kernel of an abandoned start
// that carries analyst's mark, should the gateway start it later.
const PruneLater = "`analyst kernels prune` removes it"

// Reclaim deletes the kernel of an abandoned start (err as
// jupyter.Client.StartKernel returned it: a *jupyter.AbandonedStartError),
// if it appears within wait (10 s when zero), and says what it does on tell
// (when not nil): a line before it waits, and one saying whether it deleted
// the kernel or gave up, then naming what removes a kernel started later
// (later, such as PruneLater). Any other err is left alone. The error is
// that of a failed delete.
func Reclaim(ctx context.Context, err error, wait time.Duration, tell func(msg string), later string) error {
	var abandoned *jupyter.AbandonedStartError
	if !errors.As(err, &abandoned) {
		return nil
	}
	if wait <= 0 {
		wait = reclaimWait
	}
	if tell == nil {
		tell = func(string) {}
	}
	tell(fmt.Sprintf("the kernel start was cancelled before the gateway answered; waiting up to %s for the kernel it may still start, to delete it", wait))
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	id, err := abandoned.Reclaim(rctx)
	switch {
	case errors.Is(err, jupyter.ErrNotReclaimed):
		tell(fmt.Sprintf("kernel start abandoned: no kernel of it within %s; if the gateway starts it later, %s", wait, later))
	case err != nil:
		return err
	case id != "":
		tell(fmt.Sprintf("deleted kernel %s, which the gateway started after the start was cancelled", short(id)))
	}
	return nil
}
