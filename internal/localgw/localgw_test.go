package localgw

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestStartServesAPIAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Jupyter server")
	}
	dir := t.TempDir()
	g, err := Start(context.Background(), Options{Workdir: dir})
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	if !regexp.MustCompile(`^local Jupyter (Server \d+\.\d+\.\d+|Kernel Gateway \d+\.\d+\.\d+ \((jupyter_server|notebook) \d+\.\d+\.\d+\)) on 127\.0\.0\.1:\d+, stopped on exit$`).MatchString(g.Describe()) {
		t.Errorf("Describe() = %q", g.Describe())
	}
	if len(g.Token) != 48 || strings.Contains(g.URL, g.Token) {
		t.Errorf("token %q / URL %q: want a 48-hex token kept out of the URL", g.Token, g.URL)
	}

	// Without the token the server refuses; with it, a kernel starts.
	resp, err := http.Get(g.URL + "/api/kernels")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/kernels without token: %s, want 401 or 403", resp.Status)
	}
	req, _ := http.NewRequest(http.MethodPost, g.URL+"/api/kernels", strings.NewReader(`{"name":"python3"}`))
	req.Header.Set("Authorization", "token "+g.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("start kernel: %s", resp.Status)
	}

	g.Stop()
	select {
	case <-g.Exited():
	default:
		t.Fatal("Stop returned before the server exited")
	}
	if _, err := http.Get(g.URL + "/api"); err == nil {
		t.Error("the server still answers after Stop")
	}
	g.Stop() // a second Stop is harmless
}

func TestStartBadWorkdir(t *testing.T) {
	_, err := Start(context.Background(), Options{Workdir: "/nonexistent/dir"})
	if err == nil || err.Error() != "workdir /nonexistent/dir is not a directory" {
		t.Fatalf("err = %v", err)
	}
}

func TestStartWithoutJupyter(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no jupyter-kernelgateway
	_, err := Start(context.Background(), Options{Workdir: t.TempDir(), Pythons: []string{"/bin/false"}})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
	// What to install is the command's hint (cmd/analyst TestExplain).
}

func TestStartRelativeWorkdir(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Jupyter server")
	}
	parent := t.TempDir()
	os.Mkdir(filepath.Join(parent, "data"), 0o755)
	t.Chdir(parent)
	g, err := Start(context.Background(), Options{Workdir: "data"})
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("relative workdir: %v", err)
	}
	g.Stop()
}
