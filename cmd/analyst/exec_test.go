package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

// TestExec runs analyst exec in fresh kernels and checks what a person sees
// and the exit codes.
func TestExec(t *testing.T) {
	js := jupytertest.Start(t)
	gw := []string{"--gateway-url", js.URL, "--gateway-token", js.Token}
	dir := t.TempDir()
	script := filepath.Join(dir, "plot.py")
	os.WriteFile(script, []byte("import matplotlib.pyplot as plt\nprint('plotting')\nplt.plot([1, 2, 3])\nplt.show()\n6 * 7\n"), 0o644)
	out := t.TempDir()

	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string // regexp
		stderr string // regexp
	}{
		{"text and result", []string{"print('hello')\n1 + 1"}, "", 0, `^hello\n2\n$`, `^$`},
		{"stdin", []string{"-"}, "import sys\nprint(sys.version_info[0])", 0, `^3\n$`, `^$`},
		{"file with an image", []string{"-f", script, "--out", out}, "", 0,
			`^plotting\n\[image/png \d+x\d+ saved to ` + regexp.QuoteMeta(filepath.Join(out, "figure-1.png")) + `\]\n42\n$`, `^$`},
		{"control characters shown", []string{`print('a\x1bc\x07\u009bb')`}, "", 0, `^a\\x1bc\\x07\\u009bb\n$`, `^$`},
		{"stderr stream", []string{"import sys; print('oops', file=sys.stderr)"}, "", 0, `^$`, `^oops\n$`},
		{"raises", []string{"1 / 0"}, "", 1, `^$`, `ZeroDivisionError: division by zero\n$`},
		{"times out", []string{"--timeout", "1s", "import time\nprint('start', flush=True)\ntime.sleep(30)"}, "", 124, `^start\n$`,
			`KeyboardInterrupt[\s\S]*analyst: the cell timed out after 1s; the kernel was interrupted and its state kept\n$`},
		{"kernel dies", []string{"import os; os._exit(1)"}, "", 4, `^$`, `^analyst: .*kernel died`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io, stdout, stderr := testIO(tt.stdin)
			code := run(context.Background(), append(append([]string{"exec"}, gw...), tt.args...), io)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if !regexp.MustCompile(tt.stdout).MatchString(stdout.String()) {
				t.Errorf("stdout %q does not match %q", stdout, tt.stdout)
			}
			if !regexp.MustCompile(tt.stderr).MatchString(stderr.String()) {
				t.Errorf("stderr %q does not match %q", stderr, tt.stderr)
			}
			if strings.Contains(stdout.String()+stderr.String(), "\x1b[") {
				t.Error("ANSI codes in output that is no terminal")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(out, "figure-1.png")); err != nil {
		t.Errorf("the image was not saved: %v", err)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left after exec in fresh kernels", n)
	}
}

// TestExecKeepsGivenKernel runs cells in an existing kernel: state carries
// over and the kernel is kept.
func TestExecKeepsGivenKernel(t *testing.T) {
	js := jupytertest.Start(t)
	gw := []string{"--gateway-url", js.URL, "--gateway-token", js.Token}
	code, id, errs := runCLI(t, context.Background(), append([]string{"kernels", "start"}, gw...)...)
	if code != 0 || !regexp.MustCompile(`^[0-9a-f-]{36}\n$`).MatchString(id) {
		t.Fatalf("kernels start: exit %d, stdout %q (want only the id), stderr %q", code, id, errs)
	}
	id = strings.TrimSpace(id)
	runCLI(t, context.Background(), append([]string{"exec", "--kernel-id", id, "x = 20"}, gw...)...)
	code, out, errs := runCLI(t, context.Background(), append([]string{"exec", "--kernel-id", id, "print(x + 22)"}, gw...)...)
	if code != 0 || out != "42\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	c, _ := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if _, err := c.GetKernel(context.Background(), id); err != nil {
		t.Errorf("the given kernel was not kept: %v", err)
	}
}

// TestExecKernelIDAfterDeath: a cell kills the given kernel (exit 4); the
// server restarts it, and the next exec --kernel-id runs in it.
func TestExecKernelIDAfterDeath(t *testing.T) {
	js := jupytertest.Start(t)
	gw := []string{"--gateway-url", js.URL, "--gateway-token", js.Token}
	code, id, errs := runCLI(t, context.Background(), append([]string{"kernels", "start"}, gw...)...)
	if code != 0 {
		t.Fatalf("kernels start: exit %d, stderr %q", code, errs)
	}
	id = strings.TrimSpace(id)
	if code, _, errs := runCLI(t, context.Background(), append([]string{"exec", "--kernel-id", id, "import os; os._exit(1)"}, gw...)...); code != exitKernelDied {
		t.Errorf("os._exit(1): exit %d, stderr %q; want %d (the kernel died)", code, errs, exitKernelDied)
	}
	code, out, errs := runCLI(t, context.Background(), append([]string{"exec", "--kernel-id", id, "print(6 * 7)"}, gw...)...)
	if code != 0 || out != "42\n" {
		t.Errorf("after the death: exit %d, stdout %q, stderr %q\nserver log:\n%s", code, out, errs, js.Log())
	}
}

// testIO is console.Test with stdin holding in.
func testIO(in string) (*console.IO, *bytes.Buffer, *bytes.Buffer) {
	io, out, errb := console.Test()
	io.In = strings.NewReader(in)
	return io, out, errb
}

// TestExecReplacesKernelThatNeverAnswers: the fresh kernel never answers
// (it lost a port at start); exec deletes it, says so, and runs the code in
// another.
func TestExecReplacesKernelThatNeverAnswers(t *testing.T) {
	js := jupytertest.Start(t)
	js.AddPortClashSpec(t, "clash")
	code, out, errs := runCLI(t, context.Background(), "exec", "--gateway-url", js.URL, "--gateway-token", js.Token,
		"--kernel", "clash", "--launch-timeout", "30s", "print(6 * 7)")
	if code != 0 || out != "42\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if !regexp.MustCompile(`^analyst: kernel [0-9a-f]{8} did not answer; deleted it, starting another\n$`).MatchString(errs) {
		t.Errorf("stderr %q", errs)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left", n)
	}
}

// TestExecKeepsKernelItCannotDelete: the fresh kernel never answers and its
// delete fails (a proxy refuses the first one): exec does not start another
// in its place, which would leave it behind, but fails, and deletes it at the
// end.
func TestExecKeepsKernelItCannotDelete(t *testing.T) {
	js := jupytertest.Start(t)
	js.AddPortClashSpec(t, "clash")
	var deletes atomic.Int32
	proxy := js.Proxy(t, func(mux *http.ServeMux, next http.Handler) {
		mux.HandleFunc("DELETE /api/kernels/{id}", func(w http.ResponseWriter, r *http.Request) {
			if deletes.Add(1) == 1 {
				http.Error(w, "not now", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	code, out, errs := runCLI(t, context.Background(), "exec", "--gateway-url", proxy, "--gateway-token", js.Token,
		"--kernel", "clash", "--launch-timeout", "20s", "print(6 * 7)")
	if code == 0 || out != "" || strings.Contains(errs, "starting another") ||
		!regexp.MustCompile(`(?m)^analyst: connect to kernel [0-9a-f-]{36}: the kernel did not answer within 20s`).MatchString(errs) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if n := deletes.Load(); n != 2 {
		t.Errorf("%d deletes, want 2 (the refused one, then the one at the end)", n)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left", n)
	}
}
