package jupyter

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// uploadChunk is how many bytes of the file go in one comm message, a
	// binary WebSocket message. The servers take up to 10 MiB (tornado's
	// websocket_max_message_size, which Jupyter Server and Kernel Gateway
	// leave at its default), but tornado 6.2 joins the frames of a message
	// by copying what it has each time, so larger messages cost more per
	// byte: 1 MiB measured best (BenchmarkUpload).
	uploadChunk = 1 << 20
	// uploadWindow is how many chunks may be on their way to the kernel at
	// once, so that the client, the server and the kernel work at the same
	// time; the server never holds more than this much of the file.
	uploadWindow = 8
	// uploadCleanupWait bounds removing a partial upload after a failure.
	uploadCleanupWait = 10 * time.Second
	// uploadStale is how long a locked temporary file may go unwritten
	// before it counts as left behind: a live upload writes a chunk at
	// least every cell timeout, while the kernel of a client killed during
	// an upload keeps the lock until that kernel goes.
	uploadStale = 15 * time.Minute
)

// UploadOptions configures [Session.UploadWith].
type UploadOptions struct {
	// Progress, when set, is called after each chunk the kernel has
	// written, and once at the end, from the uploading goroutine.
	Progress func(UploadProgress)
	// Notice, when set, is called with a line when the upload removed
	// temporary files that earlier, interrupted uploads left behind.
	Notice func(msg string)
}

// UploadProgress is how far an upload has come.
type UploadProgress struct {
	Name    string        // the name in the kernel's working directory
	Done    int64         // bytes the kernel has written
	Total   int64         // bytes of the file
	Elapsed time.Duration // since the first chunk was sent
}

// Rate returns the bytes per second so far; 0 before any time passed.
func (p UploadProgress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

// Upload copies the local file localPath into the kernel's working
// directory as remoteName; see [Session.UploadWith].
func (s *Session) Upload(ctx context.Context, localPath, remoteName string) error {
	return s.UploadWith(ctx, localPath, remoteName, UploadOptions{})
}

// UploadWith copies the local file localPath into the kernel's working
// directory as remoteName. The bytes travel through the kernel itself
// (Kernel Gateway has no contents API), as the binary buffers of comm
// messages to a comm target that a silent cell registers: no base64,
// several chunks on their way at once, and chunks that compress well
// (text) compressed while that is not what the upload waits for. They are
// written to a temporary name, checked against the local file's SHA-256 in
// the kernel, and only then linked to remoteName. The file is read a chunk
// at a time.
//
// A file of that name with the same SHA-256 is left as it is, without
// sending anything: the data a local gateway already sees, or a re-run's.
// A different file of that name is never replaced: UploadWith fails with a
// *FileExistsError (remove the file first, on purpose, to replace it).
// When ctx is cancelled or anything fails, the temporary file is removed.
//
// The kernel holds a lock on its temporary file while it writes it.
// Temporary files of analyst's pattern that an interrupted upload left in
// the directory (unlocked, or unwritten for a long while) are removed
// first, and opts.Notice is told.
//
// remoteName must be a plain file name: no path separators, not "." or "..".
func (s *Session) UploadWith(ctx context.Context, localPath, remoteName string, opts UploadOptions) error {
	if err := checkRemoteName(remoteName); err != nil {
		return err
	}
	op := fmt.Sprintf("upload %s", remoteName)
	f, size, err := openRegular(localPath)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, f, size); err != nil {
		return fmt.Errorf("%s: read: %w", op, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))

	u := &upload{s: s, name: remoteName, tmp: "." + remoteName + ".upload-" + newID()[:8], target: "analyst_upload_" + newID()[:8], size: size, opts: opts}
	state, err := u.begin(ctx, sum)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", op, err)
	case state == "same":
		return nil
	case state == "exists":
		return &FileExistsError{Name: remoteName}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		u.removeTmp(ctx)
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := u.send(ctx, f, sum); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// upload is one upload under way.
type upload struct {
	s      *Session
	name   string // the final name
	tmp    string // the temporary name
	target string // the comm target
	size   int64
	opts   UploadOptions
	commID string // set once the comm is open
}

// uploadBegin is the kernel side of an upload's start: it removes stale
// temporary files, says whether name is there already, and otherwise
// creates and locks tmp and registers the comm target whose comm writes it.
// The comm's messages append their buffers at the offset they name; its
// close message verifies the SHA-256 and links tmp to name, never replacing
// a file, or (with abort) removes tmp. Each handler prints one line, except
// that a chunk written prints nothing, to spare the IOPub channel.
const uploadBegin = `def _analyst_upload_begin(name, tmp, target, want, stale):
    import hashlib, json, os, re, stat, time, zlib
    try:
        import fcntl
    except ImportError:
        fcntl = None
    def locked(path):
        if fcntl is None:
            return True
        with open(path, 'rb') as g:
            try:
                fcntl.flock(g, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
        return False
    removed = []
    for n in sorted(os.listdir('.')):
        if n == tmp or not re.fullmatch(r'\..+\.upload-[0-9a-f]{8}', n, re.S):
            continue
        try:
            st = os.lstat(n)
            age = time.time() - st.st_mtime
            if not stat.S_ISREG(st.st_mode) or (age < stale and locked(n)):
                continue
            os.remove(n)
            removed.append(n)
        except OSError:
            pass
    def sha256(f):
        h = hashlib.sha256()
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
        return h.hexdigest()
    if os.path.lexists(name):
        same = False
        if os.path.isfile(name):
            with open(name, 'rb') as g:
                same = sha256(g) == want
        print(json.dumps({'state': 'same' if same else 'exists', 'removed': removed}))
        return
    f = open(tmp, 'x+b')
    if fcntl is not None:
        fcntl.flock(f, fcntl.LOCK_EX)
    km = get_ipython().kernel.comm_manager
    def opened(comm, msg):
        km.unregister_target(target, opened)
        def write(msg):
            try:
                at = msg['content']['data'].get('offset')
                if at != f.tell():
                    raise ValueError(f'chunk at {at!r}, file at {f.tell()}')
                for b in msg['buffers']:
                    f.write(zlib.decompress(b, -15) if msg['content']['data'].get('deflate') else b)
            except Exception as e:
                print(f'error: {type(e).__name__}: {e}')
        def close(msg):
            try:
                if msg['content']['data'].get('abort'):
                    os.remove(tmp)
                    print('aborted')
                    return
                f.flush()
                f.seek(0)
                got = sha256(f)
                if got != want:
                    os.remove(tmp)
                    print(f'error: sha256 mismatch: got {got}, want {want}')
                    return
                try:
                    os.link(tmp, name)
                except FileExistsError:
                    os.remove(tmp)
                    print('exists')
                    return
                except OSError:
                    if os.path.lexists(name):
                        os.remove(tmp)
                        print('exists')
                        return
                    os.replace(tmp, name)
                if os.path.lexists(tmp):
                    os.remove(tmp)
                print('ok')
            except Exception as e:
                print(f'error: {type(e).__name__}: {e}')
                if os.path.lexists(tmp):
                    os.remove(tmp)
            finally:
                f.close()
        comm.on_msg(write)
        comm.on_close(close)
        print('ok')
    km.register_target(target, opened)
    print(json.dumps({'state': 'ready', 'removed': removed}))
try:
    _analyst_upload_begin(%s, %s, %s, %s, %d)
finally:
    del _analyst_upload_begin`

// begin runs uploadBegin and returns the state it reports: "same",
// "exists" or "ready" (tmp created, the target registered).
func (u *upload) begin(ctx context.Context, sum string) (string, error) {
	code := fmt.Sprintf(uploadBegin, pyString(u.name), pyString(u.tmp), pyString(u.target), pyString(sum), int(uploadStale.Seconds()))
	res, err := u.s.execute(ctx, code, true)
	if err == nil {
		err = cellError(res)
	}
	if err != nil {
		return "", err
	}
	var out struct {
		State   string   `json:"state"`
		Removed []string `json:"removed"`
	}
	if err := json.Unmarshal([]byte(res.Text()), &out); err != nil {
		return "", fmt.Errorf("the kernel's answer to the upload's start is not understood: %q", res.Text())
	}
	if len(out.Removed) > 0 && u.opts.Notice != nil {
		u.opts.Notice(fmt.Sprintf("removed %d temporary file(s) that interrupted uploads left in the kernel's directory: %s",
			len(out.Removed), strings.Join(out.Removed, ", ")))
	}
	return out.State, nil
}

// send opens the comm, streams the file through it and closes it, which
// verifies and renames the file in the kernel, holding the session's turn.
// On failure the temporary file goes: through the comm while it is open
// (the kernel handles the chunks sent before first), else with a cell.
func (u *upload) send(ctx context.Context, f io.Reader, sum string) error {
	s := u.s
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		u.removeTmp(ctx)
		return context.Cause(ctx)
	}
	left, err := u.stream(ctx, f, sum)
	if err != nil && u.commID != "" {
		left = !u.abort(ctx)
	}
	<-s.turn
	if left {
		u.removeTmp(ctx)
	}
	return err
}

// stream does send's work; the caller holds the turn. left reports that
// the temporary file may be there still while the comm is closed. Up to
// uploadWindow chunks are on their way at once.
func (u *upload) stream(ctx context.Context, f io.Reader, sum string) (left bool, err error) {
	s := u.s
	conn, err := s.connection(ctx)
	if err != nil {
		return true, err
	}
	u.commID = newID()
	open := newMessage(s.sid(), "shell", "comm_open", commOpen{CommID: u.commID, TargetName: u.target, Data: struct{}{}})
	if err := u.await(ctx, u.start(conn, open, nil), "ok"); err != nil {
		return false, fmt.Errorf("open the upload's comm: %w", err)
	}

	start := time.Now()
	enc := newChunkEncoder()
	var inFlight []*chunkCall
	defer func() {
		for _, c := range inFlight {
			s.unregister(c.call)
		}
	}()
	var done int64
	for off := int64(0); off < u.size || len(inFlight) > 0; {
		if off < u.size && len(inFlight) < uploadWindow {
			n := min(uploadChunk, u.size-off)
			body, deflated, err := enc.encode(f, n)
			if err != nil {
				return false, fmt.Errorf("read: %w", err)
			}
			m := newMessage(s.sid(), "shell", "comm_msg", commMsg{CommID: u.commID, Data: chunkData{Offset: off, Deflate: deflated}})
			inFlight = append(inFlight, &chunkCall{call: u.start(conn, m, body), n: n})
			off += n
			continue
		}
		c := inFlight[0]
		inFlight = inFlight[1:]
		if err := u.await(ctx, c.call, ""); err != nil {
			return false, fmt.Errorf("chunk at byte %d: %w", done, err)
		}
		done += c.n
		u.progress(done, start)
	}
	if u.size == 0 {
		u.progress(0, start)
	}

	closing := newMessage(s.sid(), "shell", "comm_close", commMsg{CommID: u.commID, Data: map[string]string{"sha256": sum}})
	u.commID = "" // closed, whatever the answer
	res, err := u.result(ctx, u.start(conn, closing, nil))
	switch {
	case err != nil:
		return true, fmt.Errorf("verify: %w", err)
	case res == "exists":
		return false, &FileExistsError{Name: u.name}
	case res != "ok":
		return false, fmt.Errorf("verify: in the kernel: %s", strings.TrimPrefix(res, "error: "))
	}
	return false, nil
}

// chunkData is the data of a chunk's comm message: where the chunk goes in
// the file, and whether it is compressed (raw DEFLATE).
type chunkData struct {
	Offset  int64 `json:"offset"`
	Deflate bool  `json:"deflate,omitempty"`
}

// chunkEncoder reads chunks of the file and compresses those that shrink
// by a tenth at least: data files (CSV, JSON) shrink to a third or less,
// which counts where the link or the server is slow, while incompressible
// data goes as it is. Where the link and the server are fast (a local
// gateway), compressing is what takes the time: once it has taken more
// than three quarters of the upload's time so far (the rest goes to
// writing, so the compressor is what the upload waits for), the encoder
// stops compressing; also when none of the first chunks shrank.
// Its buffers are reused from chunk to chunk: a chunk is written out before
// the next is read.
type chunkEncoder struct {
	raw    []byte
	z      bytes.Buffer
	w      *flate.Writer
	start  time.Time     // of the upload
	spent  time.Duration // compressing
	n      int           // chunks compressed
	shrank int           // chunks that shrank
	off    bool          // compressing costs more than it saves
}

// encoderTrial is how many chunks are compressed before the time spent on
// it is judged.
const encoderTrial = 2 * uploadWindow

func newChunkEncoder() *chunkEncoder {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // BestSpeed is a valid level
	return &chunkEncoder{raw: make([]byte, uploadChunk), w: w, start: time.Now()}
}

// encode reads the next n bytes of f and returns what to send, and whether
// it is compressed.
func (e *chunkEncoder) encode(f io.Reader, n int64) ([]byte, bool, error) {
	raw := e.raw[:n]
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, false, err
	}
	if e.off {
		return raw, false, nil
	}
	began := time.Now()
	defer func() {
		e.spent += time.Since(began)
		e.n++
		e.off = e.n >= encoderTrial && (e.shrank == 0 || 4*e.spent > 3*time.Since(e.start))
	}()
	e.z.Reset()
	e.w.Reset(&e.z)
	if _, err := e.w.Write(raw); err != nil {
		return nil, false, err
	}
	if err := e.w.Close(); err != nil {
		return nil, false, err
	}
	if int64(e.z.Len()) > n*9/10 {
		return raw, false, nil
	}
	e.shrank++
	return e.z.Bytes(), true, nil
}

// chunkCall is a chunk on its way.
type chunkCall struct {
	call *call
	n    int64
}

// Wire contents of comm messages.
type (
	commOpen struct {
		CommID     string `json:"comm_id"`
		TargetName string `json:"target_name"`
		Data       any    `json:"data"`
	}
	commMsg struct {
		CommID string `json:"comm_id"`
		Data   any    `json:"data"`
	}
)

// start registers a call for m and sends m, with body as its one binary
// buffer when body is not nil. A comm message has no reply on the shell
// channel: the status idle that follows its handling ends the call. A
// failure to send fails the call.
func (u *upload) start(conn *websocket.Conn, m *outMessage, body []byte) *call {
	c := newCall(m.Header.MsgID, executeCall, 1<<20)
	c.gotReply = true
	u.s.register(c)
	var err error
	if body == nil {
		err = u.s.write(conn, m)
	} else {
		err = u.s.writeBinary(conn, m, body)
	}
	if err != nil {
		c.fail(fmt.Errorf("send: %w", err))
	}
	return c
}

// await waits for c and checks that its handler printed want.
func (u *upload) await(ctx context.Context, c *call, want string) error {
	res, err := u.result(ctx, c)
	switch {
	case err != nil:
		return err
	case res == want:
		return nil
	case res == "":
		return errors.New("the kernel's upload handler did not answer")
	}
	return fmt.Errorf("in the kernel: %s", strings.TrimPrefix(res, "error: "))
}

// result waits, within the cell timeout, for c to end and returns what its
// handler printed. The call is unregistered.
func (u *upload) result(ctx context.Context, c *call) (string, error) {
	defer u.s.unregister(c)
	t := time.NewTimer(u.s.opts.CellTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		return "", fmt.Errorf("the kernel did not answer within %s", u.s.opts.CellTimeout)
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
	res, err := c.finish()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(res.Text()), nil
}

// progress reports done bytes, if someone listens.
func (u *upload) progress(done int64, start time.Time) {
	if u.opts.Progress != nil {
		u.opts.Progress(UploadProgress{Name: u.name, Done: done, Total: u.size, Elapsed: time.Since(start)})
	}
}

// abort closes the comm with abort set, even after ctx was cancelled: the
// kernel removes the temporary file. It reports whether the kernel said so.
func (u *upload) abort(ctx context.Context) bool {
	m := newMessage(u.s.sid(), "shell", "comm_close", commMsg{CommID: u.commID, Data: map[string]bool{"abort": true}})
	u.commID = ""
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), uploadCleanupWait)
	defer cancel()
	conn, err := u.s.current(ctx)
	if err != nil {
		return false
	}
	res, err := u.result(ctx, u.start(conn, m, nil))
	return err == nil && res == "aborted"
}

// removeTmp removes the temporary file with a cell, even after ctx was
// cancelled. The caller must not hold the session's turn.
func (u *upload) removeTmp(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), uploadCleanupWait)
	defer cancel()
	_ = u.s.Remove(ctx, u.tmp)
}

// writeBinary sends m as a binary WebSocket message (the servers'
// deserialize_binary_message format: the part count, each part's offset,
// the JSON message, then the buffers) with body as its one buffer.
func (s *Session) writeBinary(conn *websocket.Conn, m *outMessage, body []byte) error {
	js, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var head [12]byte
	binary.BigEndian.PutUint32(head[0:], 2)
	binary.BigEndian.PutUint32(head[4:], uint32(len(head)))
	binary.BigEndian.PutUint32(head[8:], uint32(len(head)+len(js)))

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	w, err := conn.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return err
	}
	dw := &deadlineWriter{conn: conn, w: w}
	if _, err := dw.Write(head[:]); err != nil {
		return err
	}
	if _, err := dw.Write(js); err != nil {
		return err
	}
	for len(body) > 0 {
		// A frame's worth at a time, so that each has writeWait.
		part := body[:min(len(body), writeFrame)]
		if _, err := dw.Write(part); err != nil {
			return err
		}
		body = body[len(part):]
	}
	return w.Close()
}

// deadlineWriter moves the connection's write deadline writeWait ahead
// before each write: a large message may take longer than writeWait on a
// slow link, but each part of it may not.
type deadlineWriter struct {
	conn *websocket.Conn
	w    io.Writer
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return d.w.Write(p)
}

// FileExistsError says that the kernel's working directory already holds
// a different file of the name an upload was to have.
type FileExistsError struct {
	Name string
}

func (e *FileExistsError) Error() string {
	return fmt.Sprintf("the kernel's working directory already has a different %s", e.Name)
}

// Remove deletes the file name from the kernel's working directory, if it
// is there.
func (s *Session) Remove(ctx context.Context, name string) error {
	if err := checkRemoteName(name); err != nil {
		return err
	}
	return s.uploadCell(ctx, fmt.Sprintf("__import__('os').remove(%s) if __import__('os').path.isfile(%s) else None", pyString(name), pyString(name)))
}

// uploadCell runs one silent cell and turns any failure into an error.
func (s *Session) uploadCell(ctx context.Context, code string) error {
	res, err := s.execute(ctx, code, true)
	if err != nil {
		return err
	}
	return cellError(res)
}

// cellError turns a cell that did not end well into an error.
func cellError(res *Result) error {
	switch {
	case res.TimedOut:
		return errors.New("cell timed out")
	case res.Error != nil:
		return fmt.Errorf("in the kernel: %w", res.Error)
	case res.Status != "ok":
		return fmt.Errorf("in the kernel: cell status %q", res.Status)
	}
	return nil
}

// checkRemoteName accepts plain file names only.
func checkRemoteName(name string) error {
	switch {
	case name == "":
		return errors.New("upload: remote name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("upload: remote name %q is not a file name", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("upload: remote name %q must be a plain file name without a directory", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("upload: remote name %q contains a NUL byte", name)
	}
	return nil
}

// openRegular opens a regular file and returns it with its size.
func openRegular(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is not a regular file", path)
	}
	return f, st.Size(), nil
}

// pyString returns s as a Python string literal. A JSON string is one.
func pyString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
