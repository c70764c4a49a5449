package jupyter_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/analyst-dev/analyst/jupyter"
)

// TestAbortedCellIsSentAgain: a kernel aborts the requests that reach it
// just after a cell failed (ipykernel's stop_on_error window). A real kernel
// shows it only under load, so a fake one aborts the first two attempts; the
// cell is sent again and its result is the third attempt's.
func TestAbortedCellIsSentAgain(t *testing.T) {
	var attempts atomic.Int32
	c := fakeServer(t, nil, func(conn *websocket.Conn, _ *http.Request) {
		for {
			id, _ := readRequest(t, conn)
			if id == "" {
				return // the client closed
			}
			n := attempts.Add(1)
			status := "aborted"
			if n == 3 {
				status = "ok"
				_ = conn.WriteJSON(reply(id, "s", "iopub", "stream", wire{"name": "stdout", "text": "ran\n"}))
			}
			_ = conn.WriteJSON(reply(id, "r", "shell", "execute_reply", wire{"status": status, "execution_count": n}))
			_ = conn.WriteJSON(reply(id, "i", "iopub", "status", wire{"execution_state": "idle"}))
		}
	})
	s, err := c.Connect(context.Background(), fakeKernel, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Execute(context.Background(), "print('ran')")
	if err != nil {
		t.Fatal(err)
	}
	if n := attempts.Load(); n != 3 || res.Status != "ok" || res.Text() != "ran\n" {
		t.Errorf("after %d attempts: status %q, output %q", n, res.Status, res.Text())
	}
}

// TestCellRightAfterErrorRuns sends cells the moment the previous one failed,
// against a real kernel: each runs.
func TestCellRightAfterErrorRuns(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	for i := range 5 {
		if res := run(t, s, "raise ValueError('boom')"); res.Error == nil {
			t.Fatalf("round %d: the failing cell did not fail: %+v", i, res)
		}
		res := run(t, s, "print('ran')")
		if res.Status != "ok" || res.Text() != "ran\n" {
			t.Fatalf("round %d: the cell after the error: status %q, output %q", i, res.Status, res.Text())
		}
	}
}

// TestStartOutlivesCancel cancels the caller's context while the gateway is
// launching the kernel: the request still completes, so the caller gets the
// id and can delete the kernel the gateway launched: from StartKernel, or,
// when the cancel came first, from the abandoned start's Reclaim, which
// deletes it.
func TestStartOutlivesCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/kernels" {
			http.NotFound(w, r)
			return
		}
		cancel() // the user presses Ctrl-C while the kernel launches
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id": "` + fakeKernel + `", "name": "python3"}`))
	}, nil)
	k, err := c.StartKernel(ctx, jupyter.StartOptions{})
	var abandoned *jupyter.AbandonedStartError
	if errors.As(err, &abandoned) {
		k.ID, err = abandoned.Reclaim(context.Background())
	}
	if err != nil || k.ID != fakeKernel {
		t.Fatalf("StartKernel = %+v, %v; want the launched kernel", k, err)
	}
}
