package jupyter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Lost starts. Kernel Gateway 2.5 on notebook 6.4 (jupyter_client 7) drops
// some of the kernel starts that reach it while it is starting another one,
// most often on a freshly started gateway: its log says "Cannot enter into
// task ... while another task is being executed", and the request is never
// answered, although the gateway goes on answering other requests. The
// client sees a start that gets no answer; waiting out the launch timeout
// fails the user's work for nothing. So a start that has not been answered
// within a short time that adapts to the starts the gateway answered before
// (noAnswerWait) is looked into: if the gateway answers GET /api and runs on
// the stack that drops requests, the client looks for the kernel the start
// may have launched after all (each start request carries a random
// startIDKey that the kernel's environment then holds), takes it if it is
// there, and otherwise sends the start again, keeping the first request
// open: whichever answers first wins, and a kernel any other request
// launched is deleted. From then on the client sends its starts one at a
// time.
const (
	// startIDKey is the kernel environment variable that identifies a start
	// request. Gateways pass KERNEL_* variables on to the kernel.
	startIDKey = "KERNEL_START_ID"
	// firstNoAnswer is how long a start may go unanswered before it is
	// looked into, while this client has seen no start answered yet.
	// Kernel Gateway answers a start once the kernel process runs, in well
	// under a second when the machine is not loaded.
	firstNoAnswer = 10 * time.Second
	// firstNoAnswerDropping is firstNoAnswer on a server known to run on
	// the stack that drops requests.
	firstNoAnswerDropping = 4 * time.Second
	// minNoAnswer and noAnswerFactor adapt the wait to the gateway: it is
	// noAnswerFactor times the longest start answered so far, and at least
	// minNoAnswer.
	minNoAnswer    = 3 * time.Second
	noAnswerFactor = 5
	// aliveWait bounds the GET /api that tells a gateway that dropped a
	// request from one that is busy or unreachable.
	aliveWait = 5 * time.Second
	// maxStartSends bounds the start requests sent for one kernel.
	maxStartSends = 3
	// discardWait bounds the deletion of a kernel launched by a start
	// request whose answer came after another's.
	discardWait = 20 * time.Second
)

// startLog is what a Client learned about its gateway's kernel starts.
type startLog struct {
	mu       sync.Mutex
	checked  bool          // the server's stack is known
	dropping bool          // it runs on the stack that drops requests
	longest  time.Duration // the longest start answered so far
	lossy    bool          // a start went unanswered: starts go one at a time
	slot     chan struct{} // held by the one start under way once lossy
}

func newStartLog() *startLog { return &startLog{slot: make(chan struct{}, 1)} }

// answered records a start the gateway answered after d.
func (l *startLog) answered(d time.Duration) {
	l.mu.Lock()
	l.longest = max(l.longest, d)
	l.mu.Unlock()
}

// noAnswerWait is how long a start may go unanswered before it is looked
// into.
func (l *startLog) noAnswerWait() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.longest == 0 && l.dropping:
		return firstNoAnswerDropping
	case l.longest == 0:
		return firstNoAnswer
	}
	return max(minNoAnswer, noAnswerFactor*l.longest)
}

func (l *startLog) stackChecked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.checked
}

// setStack records whether the server runs on the stack that drops requests.
func (l *startLog) setStack(dropping bool) {
	l.mu.Lock()
	l.checked, l.dropping = true, dropping
	l.mu.Unlock()
}

func (l *startLog) setLossy() {
	l.mu.Lock()
	l.lossy = true
	l.mu.Unlock()
}

func (l *startLog) isLossy() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lossy
}

// startAnswer is the outcome of one start request.
type startAnswer struct {
	m    kernelModel
	err  error
	took time.Duration
}

// starter returns the function that sends one start request, which
// outlives ctx (a sent start is waited for until the deadline, so that the
// kernel it launches is known), its answer going to answers.
func (c *Client) starter(ctx context.Context, op string, body any, deadline time.Time, answers chan<- startAnswer) func() {
	return func() {
		sent := time.Now()
		go func() {
			var m kernelModel
			err := c.do(context.WithoutCancel(ctx), time.Until(deadline), op, http.MethodPost, "/api/kernels", body, &m, nil)
			if err == nil && m.ID == "" {
				err = fmt.Errorf("%s: the server returned no kernel id", op)
			}
			answers <- startAnswer{m, err, time.Since(sent)}
		}()
	}
}

// startTurn waits for this client's turn to start a kernel, on a server
// that drops concurrent starts (they then go one at a time), and returns
// the function that ends the turn.
func (c *Client) startTurn(ctx context.Context) (release func(), err error) {
	if !c.starts.isLossy() {
		return func() {}, nil
	}
	select {
	case c.starts.slot <- struct{}{}:
		return func() { <-c.starts.slot }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// startOnce starts one kernel, looking into a start that gets no answer
// (see startIDKey). Requests already sent outlive ctx; when ctx ends before
// one of them is answered, the error is an *AbandonedStartError holding
// them, so that the caller can delete the kernel they launch.
func (c *Client) startOnce(ctx context.Context, op, name string, env map[string]string, launch time.Duration) (Kernel, error) {
	release, err := c.startTurn(ctx)
	if err != nil {
		return Kernel{}, fmt.Errorf("%s: %w", op, err)
	}
	defer release()
	if !c.starts.stackChecked() {
		_, _ = c.dropsRequests(ctx) // tells noAnswerWait what to expect
	}
	deadline := time.Now().Add(launch + launchPad)
	startID := newID()
	env = maps.Clone(env)
	env[startIDKey] = startID
	body := struct {
		Name string            `json:"name"`
		Env  map[string]string `json:"env"`
	}{name, env}
	answers := make(chan startAnswer, maxStartSends)
	send := c.starter(ctx, op, body, deadline, answers)
	send()
	sent, pending := 1, 1
	look := time.NewTimer(c.starts.noAnswerWait())
	defer look.Stop()
	// adoptOrResend adopts the kernel a lost start launched after all, if
	// the server has it, or sends the start again.
	adoptOrResend := func() (Kernel, bool) {
		if k, ok := c.findStarted(ctx, startID, nil); ok {
			c.discardOthers(ctx, answers, pending, k.ID)
			return k, true
		}
		send()
		sent++
		pending++
		return Kernel{}, false
	}
	var lastErr error
	for {
		select {
		case <-ctx.Done():
			// The caller gave up (Ctrl-C): it must not wait for an answer
			// that may never come. The requests go on, and the kernel they
			// may launch is the caller's to reclaim.
			return Kernel{}, &AbandonedStartError{Op: op, Cause: context.Cause(ctx), c: c, startID: startID, answers: answers, pending: pending, busy: make(chan struct{}, 1)}
		case a := <-answers:
			pending--
			if a.err == nil {
				c.starts.answered(a.took)
				c.discardOthers(ctx, answers, pending, a.m.ID)
				return a.m.kernel(), nil
			}
			lastErr = a.err
			if c.retryFailedStart(ctx, a.err, sent, deadline) {
				if k, ok := adoptOrResend(); ok {
					return k, nil
				}
				continue
			}
			if pending == 0 {
				return Kernel{}, lastErr
			}
		case <-look.C:
			if sent == maxStartSends || ctx.Err() != nil || time.Until(deadline) < minNoAnswer {
				continue // wait for the requests out
			}
			// A server that drops requests may also have given up
			// connections it keeps open: the questions below and a new
			// start go on new ones.
			c.hc.CloseIdleConnections()
			drops, err := c.dropsRequests(ctx)
			if err != nil {
				look.Reset(c.starts.noAnswerWait()) // busy or unreachable: wait on
				continue
			}
			if !drops {
				continue // a slow start on a server that answers them all
			}
			c.starts.setLossy()
			if k, ok := adoptOrResend(); ok {
				return k, nil
			}
			look.Reset(c.starts.noAnswerWait())
		}
	}
}

// retryFailedStart reports whether a start that failed with err is sent
// again: on the stack that drops requests, the same fault answers some
// concurrent starts with "500 Unknown server error" instead (a Python import
// lock broken by its re-entered tasks), and the next start succeeds.
func (c *Client) retryFailedStart(ctx context.Context, err error, sent int, deadline time.Time) bool {
	var he *HTTPError
	if !errors.As(err, &he) || he.Status < 500 || sent == maxStartSends || ctx.Err() != nil || time.Until(deadline) < minNoAnswer {
		return false
	}
	drops, aerr := c.dropsRequests(ctx)
	if aerr != nil || !drops {
		return false
	}
	c.starts.setLossy()
	return true
}

// dropsRequests asks the server (GET /api) whether it runs on the stack that
// drops requests: notebook 6 (and before), which Kernel Gateway 2 and
// Enterprise Gateway 2 run on, reports its own version there; servers on
// jupyter_server report 1.x or 2.x. A client that already saw a start lost
// counts the server as such. The error says that the server did not answer.
func (c *Client) dropsRequests(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, aliveWait)
	defer cancel()
	v, err := c.Version(ctx)
	if err != nil {
		return false, err
	}
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	dropping := err == nil && n >= 4 && n <= 6
	c.starts.setStack(dropping)
	return dropping || c.starts.isLossy(), nil
}

// maxStartCandidates bounds the kernels asked for a start id.
const maxStartCandidates = 8

// findStarted looks for a kernel the start request with startID launched:
// among the most recently active kernels that no one is connected to and
// that are not busy, one whose environment holds startID. (The server's clock may differ from ours, so
// times are only compared with each other.) A server that does not list
// kernels has none to offer. Kernels in other, when not nil, are known not
// to be it and are not asked again; those that answered otherwise are added.
func (c *Client) findStarted(ctx context.Context, startID string, other map[string]bool) (Kernel, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*aliveWait)
	defer cancel()
	ks, err := c.ListKernels(ctx)
	if err != nil {
		return Kernel{}, false
	}
	ks = slices.DeleteFunc(ks, func(k Kernel) bool { return k.Connections > 0 || k.ExecutionState == "busy" || other[k.ID] })
	slices.SortFunc(ks, func(a, b Kernel) int { return b.LastActivity.Compare(a.LastActivity) })
	for _, k := range ks[:min(len(ks), maxStartCandidates)] {
		has, asked := c.hasStartID(ctx, k.ID, startID)
		if has {
			return k, true
		}
		if asked && other != nil {
			other[k.ID] = true
		}
	}
	return Kernel{}, false
}

// hasStartID reports whether the kernel's environment holds startID, and
// whether the kernel answered at all. It asks without interrupting: the
// kernel may be someone else's.
func (c *Client) hasStartID(ctx context.Context, kernelID, startID string) (has, asked bool) {
	s, err := c.Connect(ctx, kernelID, SessionOptions{})
	if err != nil {
		return false, false
	}
	defer s.Close()
	res, err := s.ask(ctx, envCode(startIDKey), aliveWait)
	if err != nil || res.Error != nil {
		return false, false
	}
	return strings.TrimSpace(res.Text()) == startID, true
}

// discardOthers deletes, in the background, any kernel that the pending
// start requests still launch other than keep: one start wanted one kernel.
func (c *Client) discardOthers(ctx context.Context, answers <-chan startAnswer, pending int, keep string) {
	if pending == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	go func() {
		for range pending {
			a := <-answers
			if a.err != nil || a.m.ID == keep {
				continue
			}
			dctx, cancel := context.WithTimeout(ctx, discardWait)
			_ = c.DeleteKernel(dctx, a.m.ID)
			cancel()
		}
	}()
}

// deleteAnswerWait is how long one DELETE may go unanswered before the
// client checks whether the kernel is gone and, if not, sends it again: a
// gateway that drops starts drops deletes too (see startIDKey).
const deleteAnswerWait = 8 * time.Second

// maxDeleteSends bounds the DELETE requests sent for one kernel when they
// get no answer.
const maxDeleteSends = 3

// kernelGone reports whether the server says it does not know the kernel.
func (c *Client) kernelGone(ctx context.Context, id string) bool {
	ctx, cancel := context.WithTimeout(ctx, aliveWait)
	defer cancel()
	_, err := c.GetKernel(ctx, id)
	return errors.Is(err, ErrKernelNotFound)
}

// noAnswer reports whether err is a request that got no answer in
// time, while ctx still has time.
func noAnswer(ctx context.Context, err error) bool {
	return ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded)
}
