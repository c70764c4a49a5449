package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gorilla/websocket"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	n := flag.Int("n", 500, "cells per method")
	flag.Parse()
	if err := run(ctx, *n, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kernelbench:", err)
		os.Exit(1)
	}
}

// row is one line of the table.
type row struct {
	method string
	cells  int
	ms     float64
}

func run(ctx context.Context, n int, out io.Writer) error {
	dir, err := os.MkdirTemp("", "kernelbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := jupytertest.Launch(dir)
	if err != nil {
		return err
	}
	defer srv.Stop()
	c, err := jupyter.NewClient(jupyter.Config{URL: srv.URL, Token: srv.Token})
	if err != nil {
		return err
	}

	floor, err := zmqFloor(ctx, n)
	if err != nil {
		return fmt.Errorf("ZMQ floor: %w", err)
	}
	ours, err := timeExecute(ctx, c, n)
	if err != nil {
		return fmt.Errorf("jupyter.Execute: %w", err)
	}
	naive, err := timeNaive(ctx, c, srv, n)
	if err != nil {
		return fmt.Errorf("naive WebSocket: %w", err)
	}

	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "method\tcells\tms/cell\tratio vs floor")
	for _, r := range []row{
		{"analyst jupyter.Execute", n, ours},
		{"ZMQ floor (jupyter_client, no gateway)", n, floor},
		{"naive gorilla WebSocket", n, naive},
	} {
		fmt.Fprintf(w, "%s\t%d\t%.3f\t%.2fx\n", r.method, r.cells, r.ms, r.ms/floor)
	}
	return w.Flush()
}

// zmqFloor runs bench/zmq_floor.py and parses its ms/cell.
func zmqFloor(ctx context.Context, n int) (float64, error) {
	cmd := exec.CommandContext(ctx, jupytertest.Python, "bench/zmq_floor.py", strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "PYDEVD_DISABLE_FILE_VALIDATION=1")
	b, err := cmd.Output()
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0, fmt.Errorf("unexpected output %q", b)
	}
	return strconv.ParseFloat(f[2], 64)
}

// newKernel starts a kernel for one method and returns a function that
// deletes it.
func newKernel(ctx context.Context, c *jupyter.Client) (string, func(), error) {
	k, err := c.StartKernel(ctx, jupyter.StartOptions{})
	if err != nil {
		return "", nil, err
	}
	return k.ID, func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = c.DeleteKernel(dctx, k.ID)
	}, nil
}

// timeExecute times n cells through jupyter.Session.Execute.
func timeExecute(ctx context.Context, c *jupyter.Client, n int) (float64, error) {
	id, del, err := newKernel(ctx, c)
	if err != nil {
		return 0, err
	}
	defer del()
	s, err := c.Connect(ctx, id, jupyter.SessionOptions{})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	cell := func() error {
		res, err := s.Execute(ctx, "x += 1")
		if err == nil && res.Status != "ok" {
			err = fmt.Errorf("status %q", res.Status)
		}
		return err
	}
	return timeCells(ctx, n, func() error { _, err := s.Execute(ctx, "x = 0"); return err }, cell)
}

// timeCells runs setup, 20 warm-up cells, then times n cells.
func timeCells(ctx context.Context, n int, setup, cell func() error) (float64, error) {
	if err := setup(); err != nil {
		return 0, err
	}
	for range 20 {
		if err := cell(); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	for range n {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := cell(); err != nil {
			return 0, err
		}
	}
	return float64(time.Since(start).Microseconds()) / 1000 / float64(n), nil
}

// timeNaive times n cells through a plain gorilla Dialer with defaults and
// the thinnest hand-written exchange: send execute_request, read until
// both the reply and status idle for it arrived.
func timeNaive(ctx context.Context, c *jupyter.Client, srv *jupytertest.Server, n int) (float64, error) {
	id, del, err := newKernel(ctx, c)
	if err != nil {
		return 0, err
	}
	defer del()
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/kernels/" + id + "/channels?session_id=naive"
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, u, http.Header{"Authorization": {"token " + srv.Token}})
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	seq := 0
	exec := func(code string) error {
		seq++
		msgID := "naive-" + strconv.Itoa(seq)
		req := map[string]any{
			"channel":       "shell",
			"header":        map[string]any{"msg_id": msgID, "msg_type": "execute_request", "session": "naive", "username": "bench", "version": "5.3", "date": time.Now().UTC().Format(time.RFC3339Nano)},
			"parent_header": map[string]any{},
			"metadata":      map[string]any{},
			"content":       map[string]any{"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true},
			"buffers":       []any{},
		}
		if err := conn.WriteJSON(req); err != nil {
			return err
		}
		var gotReply, gotIdle bool
		for !gotReply || !gotIdle {
			var m struct {
				Header struct {
					MsgType string `json:"msg_type"`
				} `json:"header"`
				ParentHeader struct {
					MsgID string `json:"msg_id"`
				} `json:"parent_header"`
				Content json.RawMessage `json:"content"`
			}
			if err := conn.ReadJSON(&m); err != nil {
				return err
			}
			if m.ParentHeader.MsgID != msgID {
				continue
			}
			switch m.Header.MsgType {
			case "execute_reply":
				gotReply = true
			case "status":
				gotIdle = strings.Contains(string(m.Content), `"idle"`)
			}
		}
		return nil
	}
	return timeCells(ctx, n, func() error { return exec("x = 0") }, func() error { return exec("x += 1") })
}
