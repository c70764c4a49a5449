package jupytertest_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

func TestStartStop(t *testing.T) {
	s := jupytertest.Start(t)
	if s.URL == "" || s.Token == "" || s.Dir == "" {
		t.Fatalf("server = %+v", s)
	}
	if n := s.KernelCount(t); n != 0 {
		t.Fatalf("%d kernels on a new server", n)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/kernels", strings.NewReader(`{"name": "python3"}`))
	req.Header.Set("Authorization", "token "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("start kernel: %s %s", resp.Status, body)
	}
	if n := s.KernelCount(t); n != 1 {
		t.Errorf("%d kernels, want 1", n)
	}

	s.Stop() // also run by Cleanup; must be idempotent
	if _, err := http.Get(s.URL + "/api"); err == nil {
		t.Error("server still answers after Stop")
	}
	if strays := kernelsUnder(t, s.Dir); len(strays) > 0 {
		t.Errorf("kernel processes left behind: %v", strays)
	}
}

// kernelsUnder lists processes whose command line names a connection file
// of the server whose root is dir (Linux only).
func kernelsUnder(t *testing.T, dir string) []string {
	runtime := filepath.Join(filepath.Dir(dir), "runtime")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Log("no /proc: not checking for stray kernels")
		return nil
	}
	var found []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), runtime) && strings.Contains(string(b), "ipykernel") {
			found = append(found, e.Name())
		}
	}
	return found
}

func TestParseKind(t *testing.T) {
	for s, want := range map[string]jupytertest.Kind{"": jupytertest.JupyterServer, "server": jupytertest.JupyterServer, "kg3": jupytertest.KG3, "kg2": jupytertest.KG2} {
		if got, err := jupytertest.ParseKind(s); got != want || err != nil {
			t.Errorf("ParseKind(%q) = %q, %v; want %q, nil", s, got, err, want)
		}
	}
	_, err := jupytertest.ParseKind("kg1")
	if want := `"kg1": want "server", "kg3" or "kg2"`; err == nil || err.Error() != want {
		t.Errorf("ParseKind(%q) error = %v; want %s", "kg1", err, want)
	}
}

// TestKernelReport reads a kernel's connection file and finds its process
// listening on all five ports.
func TestKernelReport(t *testing.T) {
	s := jupytertest.Start(t)
	c, err := jupyter.NewClient(jupyter.Config{URL: s.URL, Token: s.Token})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k, err := c.StartKernel(ctx, jupyter.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.DeleteKernel(context.Background(), k.ID)
	session, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	report := s.KernelReport(k.ID)
	if !strings.Contains(report, "Kernel started: "+k.ID) {
		t.Errorf("the report has no log line of the kernel's start:\n%s", report)
	}
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc: ports and processes not reported")
	}
	cf := "kernel-" + k.ID + ".json"
	for _, ch := range []string{"shell", "iopub", "stdin", "control", "hb"} {
		if !regexp.MustCompile(`(?m)^` + ch + ` port \d+: pid \d+: .*ipykernel_launcher -f \S+/` + regexp.QuoteMeta(cf) + `$`).MatchString(report) {
			t.Errorf("the report does not find the kernel listening on its %s port:\n%s", ch, report)
		}
	}
	if !regexp.MustCompile(`(?m)^kernel process \d+: state [RSD], waiting in `).MatchString(report) {
		t.Errorf("the report has no state of the kernel's process:\n%s", report)
	}
}
