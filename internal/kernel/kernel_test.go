package kernel

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

func TestHandleUploadsRestartsAndDeletes(t *testing.T) {
	js := jupytertest.Start(t)
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "numbers.bin")
	b := make([]byte, 3<<20)
	rand.Read(b)
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(b))

	var ready []string
	var done []int64
	ctx := context.Background()
	h := Start(ctx, Options{
		Client:  c,
		Start:   jupyter.StartOptions{Name: "python3"},
		Files:   []string{data},
		Upload:  jupyter.UploadOptions{Progress: func(p jupyter.UploadProgress) { done = append(done, p.Done) }},
		OnReady: func(msg string) { ready = append(ready, msg) },
	})
	check := "import hashlib; print(hashlib.sha256(open('numbers.bin','rb').read()).hexdigest())"
	res, err := h.Execute(ctx, "x = 41\n"+check)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(res.Text()); got != sum {
		t.Errorf("kernel's sha256 = %q, want %q", got, sum)
	}
	if len(ready) != 1 || !regexp.MustCompile(`, 1 data file\(s\) uploaded \(3\.1 MB at [0-9.]+ [kMG]?B/s\)$`).MatchString(ready[0]) {
		t.Errorf("OnReady got %q", ready)
	}
	if len(done) == 0 || done[len(done)-1] != 3<<20 || !slices.IsSorted(done) {
		t.Errorf("upload progress at %v bytes, want it rising to %d", done, 3<<20)
	}

	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = h.Execute(ctx, "print('x' in dir())\n"+check)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(res.Text()); len(got) != 2 || got[0] != "False" || got[1] != sum {
		t.Errorf("after restart: %q, want variables gone and the file back", got)
	}

	id := h.ID()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKernel(ctx, id); !errors.Is(err, jupyter.ErrKernelNotFound) {
		t.Errorf("kernel still there after Close: %v", err)
	}
	if err := h.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestHandleStartFailureSurfaces(t *testing.T) {
	js := jupytertest.Start(t)
	c, _ := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: "wrong-token"})
	h := Start(context.Background(), Options{Client: c, Start: jupyter.StartOptions{Name: "python3"}})
	defer h.Close(context.Background())
	_, err := h.Execute(context.Background(), "1")
	if !errors.Is(err, jupyter.ErrUnauthorized) {
		t.Fatalf("err = %v, want unauthorized", err)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("the error shows the token: %v", err)
	}
}
