package mcpserver

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/analyst-dev/analyst/analysis"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

// connect serves a session over in-memory transports and returns the
// client's end; done receives Serve's error once the session is over.
func connect(t *testing.T, opts Options) (cs *mcp.ClientSession, done <-chan error) {
	t.Helper()
	return connectWith(t, opts, nil)
}

// connectWith is connect with the client's options.
func connectWith(t *testing.T, opts Options, copts *mcp.ClientOptions) (cs *mcp.ClientSession, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, ct := mcp.NewInMemoryTransports()
	ch := make(chan error, 1)
	go func() { ch <- Serve(ctx, st, opts) }()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, copts)
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		cancel()
	})
	return cs, ch
}

// call calls a tool and returns its text and images.
func call(t *testing.T, cs *mcp.ClientSession, tool string, args any) (text string, images []*mcp.ImageContent, isError bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var texts []string
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			texts = append(texts, c.Text)
		case *mcp.ImageContent:
			images = append(images, c)
		default:
			t.Errorf("%s: unexpected content %T", tool, c)
		}
	}
	return strings.Join(texts, "\n"), images, res.IsError
}

// output is the cell's output: the text after the status line.
func output(text string) string {
	_, out, _ := strings.Cut(text, "\n")
	return out
}

func TestSessionKernel(t *testing.T) {
	js := jupytertest.Start(t)
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if err != nil {
		t.Fatal(err)
	}
	gateways := 0
	cs, done := connect(t, Options{
		Analysis: analysis.Options{
			Gateway: func(context.Context) (*jupyter.Client, func(), error) { gateways++; return c, nil, nil },
			Start:   jupyter.StartOptions{Name: "python3"},
		},
		Version: "test",
	})

	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	if strings.Join(names, " ") != "execute_code get_file list_files reset restart_kernel upload_file" {
		t.Errorf("tools = %q", names)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels before the first call, want 0 (started on first use)", n)
	}

	if text, _, isErr := call(t, cs, ExecuteCode, map[string]any{"code": "x = 1+2"}); isErr || !strings.HasPrefix(text, "[cell 1] ok") {
		t.Errorf("x = 1+2: %q (error %v)", text, isErr)
	}
	if text, _, isErr := call(t, cs, ExecuteCode, map[string]any{"code": "print(x)"}); isErr || output(text) != "3" {
		t.Errorf("print(x): %q (error %v), want output 3", text, isErr)
	}
	if n := js.KernelCount(t); n != 1 {
		t.Errorf("%d kernels during the session, want 1", n)
	}

	text, images, isErr := call(t, cs, ExecuteCode, map[string]any{"code": "import matplotlib.pyplot as plt; plt.plot([1,2,3]); plt.show()"})
	if isErr || len(images) != 1 || images[0].MIMEType != "image/png" {
		t.Fatalf("plot: %q, %d images (error %v), want one image/png", text, len(images), isErr)
	}
	if _, err := png.Decode(bytes.NewReader(images[0].Data)); err != nil {
		t.Errorf("the image is not a PNG: %v", err)
	}
	if !strings.Contains(text, "[image/png ") {
		t.Errorf("plot text %q does not mention the image", text)
	}
	// The figure is a file of the session, to list and fetch.
	if text, _, isErr := call(t, cs, ListFiles, map[string]any{}); isErr || !strings.HasPrefix(text, "figure-1.png\timage/png\t") {
		t.Errorf("list_files: %q (error %v), want figure-1.png", text, isErr)
	}
	if _, got, isErr := call(t, cs, GetFile, map[string]any{"name": "figure-1.png"}); isErr || len(got) != 1 || !bytes.Equal(got[0].Data, images[0].Data) {
		t.Errorf("get_file figure-1.png: %d images (error %v), want the plot's PNG", len(got), isErr)
	}
	for _, name := range []string{"../../etc/passwd", "figure-9.png"} {
		if text, _, isErr := call(t, cs, GetFile, map[string]any{"name": name}); !isErr || !strings.Contains(text, "call list_files") {
			t.Errorf("get_file %s: %q (error %v), want a tool error", name, text, isErr)
		}
	}

	text, _, isErr = call(t, cs, ExecuteCode, map[string]any{"code": "1/0"})
	if !isErr || !strings.Contains(text, "ZeroDivisionError") {
		t.Errorf("1/0: %q (error %v), want a tool error with the traceback", text, isErr)
	}

	local := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(local, []byte("hello from a local file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if text, _, isErr := call(t, cs, UploadFile, map[string]any{"path": local}); isErr || !strings.Contains(text, "as note.txt") {
		t.Errorf("upload: %q (error %v)", text, isErr)
	}
	if text, _, isErr := call(t, cs, ExecuteCode, map[string]any{"code": "print(open('note.txt').read().strip())"}); isErr || output(text) != "hello from a local file" {
		t.Errorf("reading the upload: %q (error %v)", text, isErr)
	}
	if text, _, isErr := call(t, cs, UploadFile, map[string]any{"path": local + ".missing"}); !isErr || text != "upload "+local+".missing: no such file" {
		t.Errorf("missing upload: %q (error %v), want a one-line tool error", text, isErr)
	}

	if text, _, isErr := call(t, cs, RestartKernel, map[string]any{}); isErr || !strings.Contains(text, "restarted") {
		t.Errorf("restart: %q (error %v)", text, isErr)
	}
	text, _, isErr = call(t, cs, ExecuteCode, map[string]any{"code": "print(x)"})
	if !isErr || !strings.Contains(text, "NameError") {
		t.Errorf("print(x) after restart: %q (error %v), want NameError", text, isErr)
	}

	// The kernel dies; restart_kernel brings it back and the next cell runs
	// (on every server: Kernel Gateway 3 restarts a dead kernel on new ports).
	if text, _, isErr := call(t, cs, ExecuteCode, map[string]any{"code": "import os; os._exit(1)"}); !isErr {
		t.Errorf("os._exit(1): %q, want a tool error", text)
	}
	if text, _, isErr := call(t, cs, RestartKernel, map[string]any{}); isErr || !strings.Contains(text, "restarted") {
		t.Errorf("restart after the death: %q (error %v)", text, isErr)
	}
	if text, _, isErr := call(t, cs, ExecuteCode, map[string]any{"code": "print(2 + 2)"}); isErr || output(text) != "4" {
		t.Errorf("print(2 + 2) after the death and restart: %q (error %v), want output 4", text, isErr)
	}
	if gateways != 1 {
		t.Errorf("the gateway was asked for %d times, want once", gateways)
	}

	// reset: a new kernel, cells from 1 again, no files.
	if text, _, isErr := call(t, cs, Reset, map[string]any{}); isErr || !strings.HasPrefix(text, "reset:") {
		t.Errorf("reset: %q (error %v)", text, isErr)
	}
	if text, _, isErr := call(t, cs, ListFiles, map[string]any{}); isErr || !strings.HasPrefix(text, "no files yet") {
		t.Errorf("list_files after reset: %q (error %v)", text, isErr)
	}
	if text, _, isErr := call(t, cs, ExecuteCode, map[string]any{"code": "y = 1"}); isErr || !strings.HasPrefix(text, "[cell 1] ok") {
		t.Errorf("after reset: %q (error %v), want cell 1", text, isErr)
	}

	cs.Close()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels after the session ended, want 0", n)
	}
}

func TestToolErrors(t *testing.T) {
	cs, done := connect(t, Options{Analysis: analysis.Options{
		Gateway: func(context.Context) (*jupyter.Client, func(), error) {
			return nil, nil, errors.New("cannot reach the gateway\nat http://127.0.0.1:1")
		},
	}})
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{ExecuteCode, map[string]any{"code": "1"}, "start kernel: cannot reach the gateway at http://127.0.0.1:1"},
		{ExecuteCode, map[string]any{"code": " "}, "code is empty: pass the Python to run"},
		{UploadFile, map[string]any{"path": t.TempDir()}, "is a directory"},
		{RestartKernel, map[string]any{}, "no kernel was running"},
	} {
		text, _, isErr := call(t, cs, tc.tool, tc.args)
		wantErr := tc.tool != RestartKernel
		if isErr != wantErr || !strings.Contains(text, tc.want) || strings.Contains(text, "\n") {
			t.Errorf("%s %v: %q (error %v), want one line containing %q (error %v)", tc.tool, tc.args, text, isErr, tc.want, wantErr)
		}
	}
	cs.Close()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestUploadFileProgress: an upload_file call that asks for progress gets
// a notification each whole percent, up to the whole file.
func TestUploadFileProgress(t *testing.T) {
	js := jupytertest.Start(t)
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		got []*mcp.ProgressNotificationParams
	)
	whole := make(chan struct{})
	cs, _ := connectWith(t, Options{
		Analysis: analysis.Options{
			Gateway: func(context.Context) (*jupyter.Client, func(), error) { return c, nil, nil },
			Start:   jupyter.StartOptions{Name: "python3"},
		},
		Version: "test",
	}, &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Params)
		if r.Params.Progress == r.Params.Total {
			close(whole)
		}
	}})
	const size = 3<<20 + 1
	local := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(local, bytes.Repeat([]byte{'x'}, size), 0o644); err != nil {
		t.Fatal(err)
	}
	params := &mcp.CallToolParams{Name: UploadFile, Arguments: map[string]any{"path": local}}
	params.SetProgressToken("up-1")
	res, err := cs.CallTool(context.Background(), params)
	if err != nil || res.IsError {
		t.Fatalf("upload_file: %+v, %v", res, err)
	}
	select {
	case <-whole:
	case <-time.After(time.Minute):
		t.Fatal("no progress notification for the whole file")
	}
	mu.Lock()
	defer mu.Unlock()
	var done []float64
	for _, p := range got {
		done = append(done, p.Progress)
		if p.ProgressToken != "up-1" || p.Total != size || !regexp.MustCompile(`^[0-9.]+ [kM]?B of 3\.1 MB, [0-9.]+ [kMG]?B/s$`).MatchString(p.Message) {
			t.Errorf("notification %+v", p)
		}
	}
	slices.Sort(done)
	if want := []float64{1 << 20, 2 << 20, 3 << 20, size}; !slices.Equal(done, want) {
		t.Errorf("progress at %v bytes, want %v", done, want)
	}
}
