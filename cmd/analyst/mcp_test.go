package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMCPLocalGateway runs analyst mcp with no gateway configured and talks
// to it over its standard streams: the first call starts a local gateway in
// --workdir, and ending the session ends the command.
func TestMCPLocalGateway(t *testing.T) {
	jupytertest.Start(t) // skips (or fails under CI) when Jupyter is missing
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	t.Setenv("JUPYTER_GATEWAY_AUTH_TOKEN", "")
	dir := t.TempDir()

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	cio, _, _ := console.Test()
	var errs syncBuffer
	cio.In, cio.Out, cio.Err = inR, outW, &errs
	code := make(chan int, 1)
	go func() {
		code <- run(context.Background(), []string{"mcp", "--workdir", dir}, cio)
		outW.Close()
	}()

	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{
		Name:      "execute_code",
		Arguments: map[string]any{"code": "import os\nprint(os.path.basename(os.getcwd()))"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Content) != 1 || res.IsError {
		t.Fatalf("execute_code: %+v", res)
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if _, out, _ := strings.Cut(text, "\n"); out != filepath.Base(dir) {
		t.Errorf("kernel's working directory: %q, want %s", text, filepath.Base(dir))
	}
	cs.Close()
	if c := <-code; c != 0 {
		t.Errorf("exit %d\n%s", c, errs.String())
	}
	if !strings.Contains(errs.String(), "local Jupyter") || !strings.Contains(errs.String(), "analyst mcp: kernel ") {
		t.Errorf("stderr does not say what was started:\n%s", errs.String())
	}
}
