package jupyter_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/analyst-dev/analyst/jupyter"
)

// This file covers, with a fake server, only what a real one cannot be
// made to do on demand: drop a socket mid-cell, refuse listing, start
// slowly, hit a kernel limit, send a huge frame, lose a kernel silently.

const fakeKernel = "7b4a5d43-8d4a-4a8c-9a8e-6c4a2b1f1e11"

// wire is a kernel message as the fake server writes it.
type wire map[string]any

// reply builds a message answering the request with msg_id parent.
func reply(parent, id, channel, msgType string, content any) wire {
	return wire{
		"channel":       channel,
		"header":        wire{"msg_id": id, "msg_type": msgType},
		"parent_header": wire{"msg_id": parent},
		"metadata":      wire{},
		"content":       content,
		"buffers":       []any{},
	}
}

// readRequest reads one request and returns its msg_id and type ("" when
// the client closed). It answers the kernel_info_request a new Session sends
// on the control channel, as a kernel does (the reply, then the status idle
// on IOPub), and reads on.
func readRequest(t *testing.T, conn *websocket.Conn) (id, msgType string) {
	t.Helper()
	for {
		id, msgType = readHeader(conn)
		if msgType != "kernel_info_request" {
			return id, msgType
		}
		answerInfo(conn, id, true)
	}
}

// readHeader reads one request and returns its msg_id and type ("" when
// the client closed).
func readHeader(conn *websocket.Conn) (id, msgType string) {
	var m struct {
		Header struct {
			MsgID   string `json:"msg_id"`
			MsgType string `json:"msg_type"`
		} `json:"header"`
	}
	if err := conn.ReadJSON(&m); err != nil {
		return "", ""
	}
	return m.Header.MsgID, m.Header.MsgType
}

// answerInfo answers the kernel_info_request id on the control channel, and
// reports the kernel idle on IOPub if iopub.
func answerInfo(conn *websocket.Conn, id string, iopub bool) {
	_ = conn.WriteJSON(reply(id, "info-"+id, "control", "kernel_info_reply", wire{"status": "ok"}))
	if iopub {
		_ = conn.WriteJSON(reply(id, "idle-"+id, "iopub", "status", wire{"execution_state": "idle"}))
	}
}

// aliveKernel answers the kernel's model on its REST path (and 404
// elsewhere): a cell that runs longer than the client's liveness poll, as
// any cell may on a loaded machine, finds the kernel alive.
func aliveKernel(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/kernels/"+fakeKernel {
		http.NotFound(w, r)
		return
	}
	io.WriteString(w, `{"id": "`+fakeKernel+`", "name": "python3", "execution_state": "busy"}`)
}

// fakeServer serves the kernel REST paths from a handler (aliveKernel when
// nil) and the channels path from ws.
func fakeServer(t *testing.T, rest http.HandlerFunc, ws func(conn *websocket.Conn, r *http.Request)) *jupyter.Client {
	t.Helper()
	return fakeServerLaunch(t, 300*time.Millisecond, rest, ws)
}

// fakeServerLaunch is fakeServer with a client whose LaunchTimeout is launch.
func fakeServerLaunch(t *testing.T, launch time.Duration, rest http.HandlerFunc, ws func(conn *websocket.Conn, r *http.Request)) *jupyter.Client {
	t.Helper()
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/kernels/"+fakeKernel+"/channels", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token T" || r.Header.Get("Origin") != "" {
			http.Error(w, "bad headers", http.StatusBadRequest)
			return
		}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		ws(conn, r)
	})
	if rest == nil {
		rest = aliveKernel
	}
	mux.HandleFunc("/", rest)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := jupyter.NewClient(jupyter.Config{URL: srv.URL, Token: "T", LaunchTimeout: launch})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReconnectAfterDropMidCell(t *testing.T) {
	var (
		mu       sync.Mutex
		sessions []string
		pending  string
	)
	c := fakeServer(t, nil, func(conn *websocket.Conn, r *http.Request) {
		mu.Lock()
		sessions = append(sessions, r.URL.Query().Get("session_id"))
		first := len(sessions) == 1
		mu.Unlock()
		if first {
			id, _ := readRequest(t, conn)
			mu.Lock()
			pending = id
			mu.Unlock()
			_ = conn.WriteJSON(reply(id, "m1", "iopub", "status", wire{"execution_state": "busy"}))
			_ = conn.WriteJSON(reply(id, "m2", "iopub", "stream", wire{"name": "stdout", "text": "part1 "}))
			conn.UnderlyingConn().Close() // drop the socket mid-cell
			return
		}
		// The server replays what it buffered, including what was sent.
		mu.Lock()
		id := pending
		mu.Unlock()
		for _, m := range []wire{
			reply(id, "m2", "iopub", "stream", wire{"name": "stdout", "text": "part1 "}),
			reply(id, "m3", "iopub", "stream", wire{"name": "stdout", "text": "part2"}),
			reply(id, "m4", "shell", "execute_reply", wire{"status": "ok", "execution_count": 3}),
			reply(id, "m5", "iopub", "status", wire{"execution_state": "idle"}),
		} {
			_ = conn.WriteJSON(m)
		}
		_, _, _ = conn.ReadMessage() // until the client closes
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Connect(ctx, fakeKernel, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Execute(ctx, "print('part1', 'part2')")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || res.ExecutionCount != 3 || len(res.Outputs) != 1 || res.Outputs[0].Text != "part1 part2" || !res.Reconnected {
		t.Errorf("result = %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sessions) != 2 || sessions[0] != sessions[1] || sessions[0] == "" {
		t.Errorf("session ids = %q, want the same one twice", sessions)
	}
}

// TestConnectWaitsForIOPub: the server subscribes a new connection's IOPub
// late, as notebook 6.4 (Kernel Gateway 2.5) does right after a kernel died
// (see Session.answering): the kernel answers on control, but the statuses
// of the first two requests are lost. Connect asks again on the same
// connection until a status arrives, and the first cell then gets its
// status idle instead of waiting for it until the cell timeout.
func TestConnectWaitsForIOPub(t *testing.T) {
	var (
		mu           sync.Mutex
		dials, infos int
	)
	c := fakeServerLaunch(t, time.Minute, nil, func(conn *websocket.Conn, r *http.Request) {
		mu.Lock()
		dials++
		mu.Unlock()
		for requests := 1; ; requests++ {
			id, msgType := readHeader(conn)
			if msgType == "" {
				return
			}
			subscribed := requests > 2
			if msgType == "kernel_info_request" {
				mu.Lock()
				infos++
				mu.Unlock()
				answerInfo(conn, id, subscribed)
				continue
			}
			_ = conn.WriteJSON(reply(id, "r-"+id, "shell", "execute_reply", wire{"status": "ok", "execution_count": 1}))
			if subscribed {
				_ = conn.WriteJSON(reply(id, "s-"+id, "iopub", "stream", wire{"name": "stdout", "text": "1\n"}))
				_ = conn.WriteJSON(reply(id, "i-"+id, "iopub", "status", wire{"execution_state": "idle"}))
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := c.Connect(ctx, fakeKernel, jupyter.SessionOptions{CellTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Execute(ctx, "print(1)")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || res.Text() != "1\n" || res.TimedOut {
		t.Errorf("status %q, text %q, timed out %v; want ok, \"1\\n\"", res.Status, res.Text(), res.TimedOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if dials != 1 || infos < 3 {
		t.Errorf("%d connections, %d kernel_info requests; want 1 connection (the kernel answered: no reason to re-open it) and at least 3 requests", dials, infos)
	}
}

// TestGetKernelResentWhenUnanswered: the server loses the first GET of a
// kernel, as Kernel Gateway 2.5 loses a request arriving as it restarts a
// dead kernel; GetKernel sends it again on a new connection.
func TestGetKernelResentWhenUnanswered(t *testing.T) {
	var (
		mu    sync.Mutex
		gets  int
		ports []string
	)
	c := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gets++
		first := gets == 1
		ports = append(ports, r.RemoteAddr)
		mu.Unlock()
		if first {
			<-r.Context().Done() // never answered
			return
		}
		aliveKernel(w, r)
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := c.GetKernel(ctx, fakeKernel)
	if err != nil || k.ID != fakeKernel || k.ExecutionState != "busy" {
		t.Fatalf("GetKernel = %+v, %v; want the kernel's model", k, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if gets != 2 || ports[0] == ports[1] {
		t.Errorf("requests from %q; want 2, the second on a new connection", ports)
	}
}

func TestOversizedFrameDropped(t *testing.T) {
	const bound = 1 << 20
	huge := strings.Repeat("y", 12<<20)
	c := fakeServer(t, nil, func(conn *websocket.Conn, r *http.Request) {
		id, _ := readRequest(t, conn)
		_ = conn.WriteJSON(reply(id, "a", "iopub", "stream", wire{"name": "stdout", "text": "head\n"}))
		_ = conn.WriteJSON(reply(id, "b", "iopub", "stream", wire{"name": "stdout", "text": huge}))
		_ = conn.WriteJSON(reply(id, "c", "shell", "execute_reply", wire{"status": "ok", "execution_count": 1}))
		_ = conn.WriteJSON(reply(id, "d", "iopub", "status", wire{"execution_state": "idle"}))
		_, _, _ = conn.ReadMessage()
	})
	// A bound, not a timing assertion: 12 MB pass slowly under -race on a
	// loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := c.Connect(ctx, fakeKernel, jupyter.SessionOptions{MaxOutputBytes: bound})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Execute(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || res.Text() != "head\n" || res.DroppedBytes < int64(len(huge)) {
		t.Errorf("status %q, text %.40q, dropped %d", res.Status, res.Text(), res.DroppedBytes)
	}
}

func TestKernelGoneDuringCell(t *testing.T) {
	var mu sync.Mutex
	gone := false
	rest := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/api/kernels/"+fakeKernel && gone {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"reason": null, "message": "Kernel does not exist: `+fakeKernel+`"}`)
			return
		}
		io.WriteString(w, `{"id": "`+fakeKernel+`", "name": "python3", "execution_state": "busy"}`)
	}
	c := fakeServer(t, rest, func(conn *websocket.Conn, r *http.Request) {
		id, _ := readRequest(t, conn)
		_ = conn.WriteJSON(reply(id, "a", "iopub", "status", wire{"execution_state": "busy"}))
		mu.Lock()
		gone = true // the kernel vanishes without a word on the socket
		mu.Unlock()
		_, _, _ = conn.ReadMessage()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.Connect(ctx, fakeKernel, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Execute(ctx, "work()")
	if !errors.Is(err, jupyter.ErrKernelDied) {
		t.Errorf("err = %v, want ErrKernelDied before the 5 s deadline", err)
	}
}

// jsonError writes a Jupyter-style error body.
func jsonError(w http.ResponseWriter, status int, reason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"reason": reason, "message": message})
}

func TestRESTErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(ctx context.Context, c *jupyter.Client) error
		want    error
		notWant error
		text    string
	}{{
		name: "listing disabled",
		handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/kernels" {
				jsonError(w, 403, "", "Forbidden")
				return
			}
			io.WriteString(w, `{"default": "python3", "kernelspecs": {}}`)
		},
		call:    func(ctx context.Context, c *jupyter.Client) error { _, err := c.ListKernels(ctx); return err },
		want:    jupyter.ErrListingDisabled,
		notWant: jupyter.ErrUnauthorized,
		text:    "list_kernels",
	}, {
		name:    "listing forbidden for a bad token",
		handler: func(w http.ResponseWriter, r *http.Request) { jsonError(w, 403, "", "Forbidden") },
		call:    func(ctx context.Context, c *jupyter.Client) error { _, err := c.ListKernels(ctx); return err },
		want:    jupyter.ErrUnauthorized,
		notWant: jupyter.ErrListingDisabled,
	}, {
		name:    "kernel gateway 401",
		handler: func(w http.ResponseWriter, r *http.Request) { jsonError(w, 401, "Unauthorized", "") },
		call:    func(ctx context.Context, c *jupyter.Client) error { _, err := c.KernelSpecs(ctx); return err },
		want:    jupyter.ErrUnauthorized,
		text:    "401 Unauthorized (not authorized)",
	}, {
		name: "resource limit",
		handler: func(w http.ResponseWriter, r *http.Request) {
			jsonError(w, 403, "Forbidden", "Resource Limit: maximum of 2 kernels reached")
		},
		call: func(ctx context.Context, c *jupyter.Client) error {
			_, err := c.StartKernel(ctx, jupyter.StartOptions{})
			return err
		},
		want:    jupyter.ErrResourceLimit,
		notWant: jupyter.ErrUnauthorized,
		text:    "maximum of 2 kernels",
	}, {
		name: "enterprise gateway user not authorized",
		handler: func(w http.ResponseWriter, r *http.Request) {
			jsonError(w, 403, "Forbidden", "User 'root' is not authorized to start kernel 'python3'. Ensure KERNEL_USERNAME is set to an appropriately authorized user and retry the request.")
		},
		call: func(ctx context.Context, c *jupyter.Client) error {
			_, err := c.StartKernel(ctx, jupyter.StartOptions{})
			return err
		},
		want:    jupyter.ErrUnauthorized,
		notWant: jupyter.ErrResourceLimit,
		text:    "not authorized to start kernel",
	}, {
		name:    "kernel not found",
		handler: func(w http.ResponseWriter, r *http.Request) { jsonError(w, 404, "", "Kernel does not exist") },
		call:    func(ctx context.Context, c *jupyter.Client) error { return c.DeleteKernel(ctx, fakeKernel) },
		want:    jupyter.ErrKernelNotFound,
	}, {
		name: "html error body is not shown",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			io.WriteString(w, "<html><body>Traceback (most recent call last)</body></html>")
		},
		call: func(ctx context.Context, c *jupyter.Client) error { _, err := c.Version(ctx); return err },
		text: "HTTP 500 Internal Server Error",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeServer(t, tt.handler, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := tt.call(ctx, c)
			var he *jupyter.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want *HTTPError", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Errorf("err = %v, must not be %v", err, tt.notWant)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.text) || strings.ContainsAny(msg, "\n{<") {
				t.Errorf("message = %q, want one line containing %q", msg, tt.text)
			}
		})
	}
}

func TestLaunchTimeout(t *testing.T) {
	release := make(chan struct{})
	var body struct {
		Name string            `json:"name"`
		Env  map[string]string `json:"env"`
	}
	var mu sync.Mutex
	delay := time.Duration(0)
	rest := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api" {
			io.WriteString(w, `{"version": "2.20.0"}`)
			return
		}
		mu.Lock()
		_ = json.NewDecoder(r.Body).Decode(&body)
		d := delay
		mu.Unlock()
		select {
		case <-time.After(d): // the gateway launching the kernel
		case <-release:
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"id": "`+fakeKernel+`", "name": "python3"}`)
	}
	c := fakeServer(t, rest, nil) // LaunchTimeout 300 ms
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Slower than the launch timeout's HTTP deadline (300 ms + 2 s pad).
	mu.Lock()
	delay = time.Minute
	mu.Unlock()
	start := time.Now()
	_, err := c.StartKernel(ctx, jupyter.StartOptions{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("slow start: err = %v after %v", err, time.Since(start))
	}

	// Slower than LaunchTimeout but within the pad: the answer is awaited.
	mu.Lock()
	delay = time.Second
	mu.Unlock()
	k, err := c.StartKernel(ctx, jupyter.StartOptions{Env: map[string]string{"KERNEL_USERNAME": "u", "PATH": "/x"}})
	if err != nil || k.ID != fakeKernel {
		t.Fatalf("StartKernel = %+v, %v", k, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if id := body.Env["KERNEL_START_ID"]; len(id) != 36 {
		t.Errorf("KERNEL_START_ID = %q, want a UUID that identifies the request", id)
	}
	delete(body.Env, "KERNEL_START_ID")
	want := map[string]string{"KERNEL_USERNAME": "u", "KERNEL_LAUNCH_TIMEOUT": "1"}
	if body.Name != "python3" || !reflect.DeepEqual(body.Env, want) {
		t.Errorf("request body = %+v, want name python3 and env %v", body, want)
	}
}
