package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
	texts, errs := mcpSession(t, dir, "import os\nprint(os.path.basename(os.getcwd()))")
	if _, out, _ := strings.Cut(texts[0], "\n"); out != filepath.Base(dir) {
		t.Errorf("kernel's working directory: %q, want %s", texts[0], filepath.Base(dir))
	}
	if !strings.Contains(errs, "local Jupyter") || !strings.Contains(errs, "analyst mcp: kernel ") {
		t.Errorf("stderr does not say what was started:\n%s", errs)
	}
}
