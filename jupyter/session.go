package jupyter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// writeWait is the time allowed to write one message to the server.
	writeWait = 10 * time.Second
	// pongWait is the time allowed to read the next frame or pong from the
	// server; the server pings every 30 s, and we ping every pingPeriod.
	pongWait = 60 * time.Second
	// pingPeriod is how often we ping the server. It must be below pongWait
	// so that a pong can extend the read deadline in time.
	pingPeriod = pongWait * 9 / 10

	// defaultCellTimeout bounds a cell when SessionOptions leaves it zero.
	defaultCellTimeout = 120 * time.Second
	// defaultMaxOutputBytes bounds a cell's kept output by default.
	defaultMaxOutputBytes = 4 << 20

	// interruptWait bounds the interrupt request plus the wait for the
	// interrupted cell to end (with KeyboardInterrupt).
	interruptWait = 5 * time.Second
	// alivePollInterval is how often a long cell asks the server whether
	// its kernel still exists, for servers that do not report deaths on
	// the WebSocket.
	alivePollInterval = 2 * time.Second
	// maxLateOutputGrace caps the wait for output that arrives after the
	// cell is done (from threads the cell started). The grace is a
	// twentieth of the cell's run time, so short cells pay nothing.
	maxLateOutputGrace = 25 * time.Millisecond

	// maxReconnects bounds the attempts to re-open a dropped WebSocket.
	maxReconnects = 8
	// minBackoff and maxBackoff bound the wait between reconnect attempts.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second

	// statusWait is how long a new connection's kernel_info replies may come
	// without their status on IOPub before the connection is used anyway:
	// a kernel that never reports its status for a control request works
	// on, while a subscription that missed the kernel's start is up long
	// before.
	statusWait = 5 * time.Second
)

// ErrSessionClosed is returned by calls on a closed Session.
var ErrSessionClosed = errors.New("kernel session closed")

// SessionOptions configures a [Session].
type SessionOptions struct {
	// CellTimeout bounds each Execute; the default is 120 s. When it
	// expires the kernel is interrupted and the partial output returned.
	CellTimeout time.Duration
	// MaxOutputBytes bounds the output kept per cell; the default is
	// 4 MiB. Output past it is dropped and counted in Result.DroppedBytes.
	MaxOutputBytes int
	// Redact, if set, is applied to the text of every result before Execute
	// returns it (streams, tracebacks, text-like MIME values): a caller
	// scrubs secrets from the kernel's output with it.
	Redact func(string) string
	// OnOutput, when set, is called with each output of a cell as it
	// arrives, before Execute returns: a stream's chunk as an Output of
	// its own (Text is the chunk), a display_data or execute_result whole,
	// an error with its plain traceback. Output past MaxOutputBytes is not
	// reported, nor are update_display_data and clear_output, nor the
	// output of the Session's own silent requests. With Redact set, the
	// outputs are redacted and stream text comes a line at a time (the
	// end of a line when the next output or the cell's end comes), so that
	// a secret split between chunks is found. It is called one output at
	// a time and in order, from the connection's reader goroutine (the
	// held-back end of a line from Execute's), and has returned for every
	// output before Execute returns: it must be quick and must not call
	// the Session.
	OnOutput func(Output)
}

// Session is a WebSocket connection to one kernel. Cells run one at a
// time. A Session is safe for concurrent use.
type Session struct {
	c        *Client
	kernelID string
	opts     SessionOptions

	frameLimit int64           // frames above this are skipped unread
	turn       chan struct{}   // one running cell at a time
	ctx        context.Context // ends at Close; used for reconnects
	cancel     context.CancelFunc
	wg         sync.WaitGroup // reader goroutines

	writeMu sync.Mutex // gorilla allows one writer at a time

	mu        sync.Mutex
	sessionID string           // the WebSocket's session_id; see redial
	conn      *websocket.Conn  // nil while reconnecting or broken
	ready     chan struct{}    // closed when conn is set or broken
	broken    error            // why reconnecting gave up
	closed    bool             // Close was called
	stale     bool             // the kernel restarted: re-open before the next use
	calls     map[string]*call // in flight, by request msg_id
}

// Connect opens a Session to a running kernel. A reconnect after a dropped
// connection keeps the session id, so that it gets the messages the server
// buffered meanwhile; after the kernel restarted, the Session connects with
// a new one. Close it when done; that does not stop the kernel.
func (c *Client) Connect(ctx context.Context, kernelID string, opts SessionOptions) (*Session, error) {
	if opts.CellTimeout <= 0 {
		opts.CellTimeout = defaultCellTimeout
	}
	if opts.MaxOutputBytes <= 0 {
		opts.MaxOutputBytes = defaultMaxOutputBytes
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Session{
		c:          c,
		kernelID:   kernelID,
		sessionID:  newID(),
		opts:       opts,
		frameLimit: 2*int64(opts.MaxOutputBytes) + 1<<20,
		turn:       make(chan struct{}, 1),
		ctx:        sctx,
		cancel:     cancel,
		ready:      make(chan struct{}),
		calls:      map[string]*call{},
	}
	// The server holds the WebSocket's handshake until the kernel answers
	// (or its own kernel_info_timeout passes), so the dial is part of the
	// wait for an answer.
	actx, acancel := s.answerBound(ctx)
	defer acancel()
	conn, err := s.dial(actx)
	if err != nil {
		cancel()
		return nil, err
	}
	s.setConn(conn)
	if err := s.answering(actx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// answerBound bounds a wait for the kernel to answer by the client's
// LaunchTimeout; when that passes first, the context's cause wraps
// ErrNoAnswer.
func (s *Session) answerBound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, s.c.launchTimeout, fmt.Errorf("%w within %s", ErrNoAnswer, s.c.launchTimeout))
}

// answering waits until the kernel answers on the new connection: a
// kernel_info_request on the control channel gets its reply, and its status
// reaches us on IOPub. The control channel answers even while the kernel
// runs a cell.
//
// Both halves matter. A connection opened while the server restarts a dead
// kernel may be bound to the dead kernel's channels and get no answer at all
// (Jupyter Server 1.x): it is re-opened. And a server subscribes a new
// connection's IOPub to the kernel asynchronously. Notebook 6.4 (under
// Kernel Gateway 2.5) opens the connection's ZeroMQ sockets at once, while
// the restarted kernel does not listen yet, and each socket reconnects on its
// own 100 ms timer; it verifies the subscription (its "nudge") only when the
// kernel's last recorded state is not busy, and after a cell killed the
// kernel that state is the dead kernel's "busy". So the control socket may
// get through while what the kernel publishes first is lost, and a cell sent
// then would get its execute_reply but never its status idle. A reply
// without its status is asked for again on the same connection, until the
// subscription is up.
func (s *Session) answering(ctx context.Context) error {
	var replyOnly time.Time // when a reply first came without its status
	ping := func(ctx context.Context, wait time.Duration) (bool, error) {
		conn, err := s.current(ctx)
		if err != nil {
			return false, err
		}
		req := newMessage(s.sid(), "control", "kernel_info_request", struct{}{})
		c := newCall(req.Header.MsgID, infoCall, 1<<20)
		err = s.await(ctx, conn, req, c, wait)
		replied := c.replied()
		if err != nil && replied {
			// A kernel that never reports its status for a control request
			// (ipykernel always does) is taken as answering after a while.
			if replyOnly.IsZero() {
				replyOnly = time.Now()
			} else if time.Since(replyOnly) >= statusWait {
				return true, nil
			}
		}
		return replied, err
	}
	if err := s.untilAnswered(ctx, time.Second, 4*time.Second, ping); err != nil {
		return fmt.Errorf("connect to kernel %s: %w", s.kernelID, err)
	}
	return nil
}

// untilAnswered repeats attempt, which sends the kernel a request and waits
// up to wait (from first, doubling up to most) for its answer, until one is
// answered, within ctx (see answerBound). An attempt that got no reply
// at all re-opens the connection before the next: it may be bound to a dead
// kernel's channels. One that got its reply but not its status is repeated
// on the same connection: the kernel is there, and re-opening would only
// start another subscription.
func (s *Session) untilAnswered(ctx context.Context, first, most time.Duration, attempt func(ctx context.Context, wait time.Duration) (replied bool, err error)) error {
	for wait := first; ; wait = min(2*wait, most) {
		replied, err := attempt(ctx, wait)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// Why the wait ended (ErrNoAnswer, when the bound passed),
			// also when the attempt's own wait ended at the same moment.
			return context.Cause(ctx)
		}
		if errors.Is(err, ErrSessionClosed) || errors.Is(err, ErrKernelNotFound) || errors.Is(err, ErrUnauthorized) {
			return err
		}
		if !replied {
			s.redial()
		}
	}
}

// replied reports whether the reply to the call's request arrived.
func (c *call) replied() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gotReply
}

// KernelID returns the id of the Session's kernel.
func (s *Session) KernelID() string { return s.kernelID }

// channelsURL returns the kernel's WebSocket URL.
func (s *Session) channelsURL() string {
	u := s.c.base
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path = s.c.base.Path + kernelPath(s.kernelID) + "/channels"
	u.RawQuery = url.Values{"session_id": {s.sid()}}.Encode()
	return u.String()
}

// sid returns the current session id.
func (s *Session) sid() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionID
}

// dial opens a WebSocket to the kernel.
func (s *Session) dial(ctx context.Context) (*websocket.Conn, error) {
	op := fmt.Sprintf("connect to kernel %s", s.kernelID)
	h := http.Header{}
	s.c.authorize(h)
	conn, resp, err := s.c.dialer.DialContext(ctx, s.channelsURL(), h)
	if err == nil {
		return conn, nil
	}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		he := newHTTPError(op, resp, s.c.token)
		if resp.StatusCode == http.StatusNotFound {
			he.kind = ErrKernelNotFound
		}
		return nil, he
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		// The handshake timed out at ctx's deadline, whose own timer is
		// about to fire: ctx's cause says why.
		<-ctx.Done()
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", op, context.Cause(ctx))
	}
	return nil, s.c.transportError(ctx, op, 0, err)
}

// setConn installs a connection and starts its reader goroutine.
func (s *Session) setConn(conn *websocket.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = conn.Close()
		return
	}
	s.conn = conn
	s.broken = nil
	close(s.ready)
	s.wg.Add(1)
	go s.serve(conn)
}

// connection returns a usable connection. After the kernel restarted it
// first waits until the kernel answers on a fresh connection.
func (s *Session) connection(ctx context.Context) (*websocket.Conn, error) {
	s.mu.Lock()
	stale := s.stale
	s.stale = false
	s.mu.Unlock()
	if stale {
		if err := s.waitUsable(ctx); err != nil {
			s.markStale()
			return nil, err
		}
	}
	return s.current(ctx)
}

// current returns the open connection, waiting while a reconnect is under
// way and dialling anew if an earlier reconnect gave up.
func (s *Session) current(ctx context.Context) (*websocket.Conn, error) {
	for {
		s.mu.Lock()
		switch {
		case s.closed:
			s.mu.Unlock()
			return nil, ErrSessionClosed
		case s.conn != nil:
			conn := s.conn
			s.mu.Unlock()
			return conn, nil
		case s.broken != nil:
			s.broken = nil
			s.ready = make(chan struct{})
			s.mu.Unlock()
			conn, err := s.dial(ctx)
			if err != nil {
				s.markBroken(err)
				return nil, err
			}
			s.setConn(conn)
			continue
		}
		ready := s.ready
		s.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// redial closes the current connection; its reader goroutine reconnects,
// under a new session id. After a restart the kernel may listen on new
// ports, which the server's channels for an existing WebSocket do not
// follow; and jupyter_server 2 "restores" a connection with a known session
// id onto the channels it buffered for it, which may be those of the dead
// kernel, so that the new connection never gets an answer. What the old
// session buffered is of no use after a restart anyway.
func (s *Session) redial() {
	s.mu.Lock()
	s.sessionID = newID()
	old := s.conn
	if old != nil {
		s.detach(old)
	}
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
}

// waitUsable re-opens the connection, under a new session id, and waits
// until the kernel answers an empty cell on it, within the client's
// LaunchTimeout.
func (s *Session) waitUsable(ctx context.Context) error {
	s.redial()
	ctx, cancel := s.answerBound(ctx)
	defer cancel()
	if err := s.untilAnswered(ctx, 250*time.Millisecond, 2*time.Second, s.probe); err != nil {
		return fmt.Errorf("wait for kernel %s: %w", s.kernelID, err)
	}
	return nil
}

// markBroken records that the connection cannot be re-opened and fails
// what is in flight.
func (s *Session) markBroken(err error) {
	s.mu.Lock()
	s.conn = nil
	s.broken = err
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
	calls := s.takeCalls()
	s.mu.Unlock()
	for _, c := range calls {
		c.fail(fmt.Errorf("connection to the kernel lost: %w", err))
	}
}

// takeCalls removes and returns every call in flight; s.mu must be held.
func (s *Session) takeCalls() []*call {
	calls := make([]*call, 0, len(s.calls))
	for id, c := range s.calls {
		calls = append(calls, c)
		delete(s.calls, id)
	}
	return calls
}

// serve is the one reader goroutine of a connection. When the connection
// drops it reconnects (with the same session id) and goes on reading the
// new one, until the Session closes or reconnecting gives up.
func (s *Session) serve(conn *websocket.Conn) {
	defer s.wg.Done()
	for conn != nil {
		err := s.readLoop(conn)
		_ = conn.Close()
		conn = s.reconnect(conn, err)
	}
}

// readLoop reads and routes frames until the connection fails.
func (s *Session) readLoop(conn *websocket.Conn) error {
	stop := make(chan struct{})
	defer close(stop)
	go pinger(conn, stop)

	_ = conn.SetReadDeadline(time.Now().Add(pongWait))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	var buf bytes.Buffer
	for {
		typ, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(pongWait))
		if typ != websocket.TextMessage {
			continue // binary frames carry buffers (widgets); not needed
		}
		m, err := readFrame(r, s.frameLimit, &buf)
		if buf.Cap() > maxKeptBuffer {
			buf = bytes.Buffer{} // do not keep a very large buffer around
		}
		if errors.Is(err, errBadFrame) {
			continue
		}
		if err != nil {
			return err
		}
		s.route(m)
	}
}

// pinger pings the server every pingPeriod until stop closes.
func pinger(conn *websocket.Conn, stop <-chan struct{}) {
	t := time.NewTicker(pingPeriod)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			// WriteControl may run concurrently with other writes.
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		}
	}
}

// route hands a message to the call it answers. A status "restarting" or
// "dead" without a parent is the server reporting that the kernel died.
func (s *Session) route(m *inMessage) {
	if m.ParentHeader.MsgID == "" && !m.oversize {
		if m.Header.MsgType == "status" {
			if state := m.Content.ExecutionState; m.Content.ok && (state == "restarting" || state == "dead") {
				s.markStale()
				s.failExecutes(fmt.Errorf("%w: the server reports the kernel %s (its variables are lost)", ErrKernelDied, state))
			}
		}
		return
	}
	s.mu.Lock()
	c := s.calls[m.ParentHeader.MsgID]
	if c == nil && m.oversize && m.ParentHeader.MsgID == "" {
		// Too large to read up to its parent: it belongs to the cell
		// running, if there is just one.
		c = s.onlyExecute()
	}
	s.mu.Unlock()
	if c != nil {
		c.handle(m)
	}
}

// onlyExecute returns the one user cell in flight, or nil; s.mu must be held.
func (s *Session) onlyExecute() *call {
	var found *call
	for _, c := range s.calls {
		if c.kind != executeCall {
			continue
		}
		if found != nil {
			return nil
		}
		found = c
	}
	return found
}

// markStale has the next use re-open the connection.
func (s *Session) markStale() {
	s.mu.Lock()
	s.stale = true
	s.mu.Unlock()
}

// failExecutes fails every cell in flight with err.
func (s *Session) failExecutes(err error) {
	s.mu.Lock()
	var calls []*call
	for _, c := range s.calls {
		if c.kind == executeCall {
			calls = append(calls, c)
		}
	}
	s.mu.Unlock()
	for _, c := range calls {
		c.fail(err)
	}
}

// reconnect re-opens the WebSocket after it dropped, with backoff. It
// returns nil if the Session closed or reconnecting gave up.
func (s *Session) reconnect(old *websocket.Conn, cause error) *websocket.Conn {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.detach(old)
	s.mu.Unlock()

	err := cause
	backoff := minBackoff
	for attempt := 0; attempt < maxReconnects; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return nil
			}
			backoff = min(2*backoff, maxBackoff)
		}
		var conn *websocket.Conn
		conn, err = s.dial(s.ctx)
		if err == nil {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.closed {
				_ = conn.Close()
				return nil
			}
			s.conn = conn
			close(s.ready)
			// What the server buffered arrives on the new connection, but a
			// message it had written into the broken one is lost.
			for _, c := range s.calls {
				c.mu.Lock()
				c.res.Reconnected = true
				c.mu.Unlock()
			}
			return conn
		}
		if s.ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrKernelNotFound) {
			err = fmt.Errorf("%w: %w", ErrKernelDied, err)
			break
		}
		if errors.Is(err, ErrUnauthorized) {
			break
		}
	}
	s.markBroken(err)
	return nil
}

// detach forgets conn if it is the current connection, so that users wait
// for the next one; s.mu must be held.
func (s *Session) detach(conn *websocket.Conn) {
	if s.conn == conn {
		s.conn = nil
		s.ready = make(chan struct{})
	}
}

// register adds a call in flight.
func (s *Session) register(c *call) {
	s.mu.Lock()
	s.calls[c.id] = c
	s.mu.Unlock()
}

// unregister removes a call; messages for it are ignored from then on.
func (s *Session) unregister(c *call) {
	s.mu.Lock()
	delete(s.calls, c.id)
	s.mu.Unlock()
}

// write sends one message.
func (s *Session) write(conn *websocket.Conn, m *outMessage) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
	return conn.WriteJSON(m)
}

// Interrupt interrupts the kernel's running cell.
func (s *Session) Interrupt(ctx context.Context) error {
	return s.c.InterruptKernel(ctx, s.kernelID)
}

// Restart restarts the kernel over REST, losing its state, and waits until
// it answers on a fresh connection. A cell in flight fails with an error
// wrapping ErrKernelDied.
func (s *Session) Restart(ctx context.Context) error {
	s.mu.Lock()
	stale := s.stale
	s.stale = false
	s.mu.Unlock()
	if stale {
		// The server is restarting a dead kernel by itself: let it finish,
		// so that the two restarts do not overlap.
		_ = s.waitUsable(ctx)
	}
	if err := s.c.RestartKernel(ctx, s.kernelID); err != nil {
		return err
	}
	s.failExecutes(fmt.Errorf("%w: the kernel was restarted", ErrKernelDied))
	if err := s.waitUsable(ctx); err != nil {
		s.markStale()
		return fmt.Errorf("restart kernel %s: %w", s.kernelID, err)
	}
	return nil
}

// probe runs an empty silent cell and waits up to wait for both its reply
// (shell) and its status idle (IOPub), proving both channels work. It
// reports whether the reply came.
func (s *Session) probe(ctx context.Context, wait time.Duration) (replied bool, err error) {
	c, err := s.silent(ctx, "", wait)
	return c != nil && c.replied(), err
}

// ask runs code as a silent cell and waits up to wait for its result. Unlike
// Execute it never interrupts the kernel: a kernel busy with someone else's
// cell is left alone.
func (s *Session) ask(ctx context.Context, code string, wait time.Duration) (*Result, error) {
	c, err := s.silent(ctx, code, wait)
	if err != nil {
		return nil, err
	}
	return c.finish()
}

// silent sends code as a silent cell and waits up to wait for its call to
// end; the call is nil when there is no connection to send it on.
func (s *Session) silent(ctx context.Context, code string, wait time.Duration) (*call, error) {
	conn, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	req := newMessage(s.sid(), "shell", "execute_request", executeRequest{
		Code:            code,
		Silent:          true,
		UserExpressions: map[string]any{},
	})
	c := newCall(req.Header.MsgID, probeCall, 1<<20)
	return c, s.await(ctx, conn, req, c, wait)
}

// await sends req and waits up to wait for its call c to end.
func (s *Session) await(ctx context.Context, conn *websocket.Conn, req *outMessage, c *call, wait time.Duration) error {
	s.register(c)
	defer s.unregister(c)
	if err := s.write(conn, req); err != nil {
		return err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.done:
		_, err := c.finish()
		return err
	case <-t.C:
		return errors.New("the kernel did not answer")
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Close closes the WebSocket. It does not stop the kernel. Calls in flight
// fail with ErrSessionClosed.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conn := s.conn
	s.conn = nil
	calls := s.takeCalls()
	s.mu.Unlock()

	s.cancel()
	for _, c := range calls {
		c.fail(ErrSessionClosed)
	}
	var err error
	if conn != nil {
		s.writeMu.Lock()
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(writeWait))
		s.writeMu.Unlock()
		err = conn.Close()
	}
	s.wg.Wait()
	return err
}
