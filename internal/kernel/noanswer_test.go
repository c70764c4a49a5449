package kernel

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

// TestKernelThatNeverAnswersIsReplaced starts a kernel that never answers,
// as one that lost a port to another process at start does (its process
// runs on, so the server never restarts it): the handle deletes it after
// the client's LaunchTimeout, says so, and works in a new kernel.
func TestKernelThatNeverAnswersIsReplaced(t *testing.T) {
	js := jupytertest.Start(t)
	js.AddPortClashSpec(t, "clash")
	// Long enough for a healthy kernel to answer on a loaded machine.
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token, LaunchTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var notices, kernels []string
	h := Start(ctx, Options{
		Client:   c,
		Start:    jupyter.StartOptions{Name: "clash"},
		OnReady:  func(m string) { notices = append(notices, m) },
		OnKernel: func(id string) { kernels = append(kernels, id) },
	})
	defer h.Close(ctx)
	res, err := h.Execute(ctx, "print(6 * 7)")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Text(); got != "42\n" {
		t.Errorf("the new kernel printed %q, want 42", got)
	}
	if len(notices) != 2 || !regexp.MustCompile(`^kernel [0-9a-f]{8} did not answer; deleted it, starting another$`).MatchString(notices[0]) ||
		!strings.HasPrefix(notices[1], "kernel "+h.ID()[:8]+" (clash) ready in ") {
		t.Errorf("notices = %q", notices)
	}
	if len(kernels) != 1 || kernels[0] != h.ID() || strings.Contains(notices[0], h.ID()[:8]) {
		t.Errorf("OnKernel got %q; the handle's kernel is %s", kernels, h.ID())
	}
	if n := js.KernelCount(t); n != 1 {
		t.Errorf("%d kernels on the server, want 1: the one that did not answer is deleted", n)
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels after Close, want 0", n)
	}
}

// TestAbandonWhileReplacingKernelThatNeverAnswers abandons the handle (a
// second Ctrl-C) while the start of the kernel that replaces one that never
// answered is in flight (a proxy holds it): the kernel that start launches
// is deleted too.
func TestAbandonWhileReplacingKernelThatNeverAnswers(t *testing.T) {
	js := jupytertest.Start(t)
	js.AddPortClashSpec(t, "clash")
	var starts atomic.Int32
	second, release, launched := make(chan struct{}), make(chan struct{}), make(chan struct{})
	proxy := js.Proxy(t, func(mux *http.ServeMux, next http.Handler) {
		mux.HandleFunc("POST /api/kernels", func(w http.ResponseWriter, r *http.Request) {
			if starts.Add(1) != 2 {
				next.ServeHTTP(w, r)
				return
			}
			// Held, then passed on whether the client waits or not.
			defer close(launched)
			body, _ := io.ReadAll(r.Body)
			close(second)
			<-release
			req, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, js.URL+r.URL.Path, bytes.NewReader(body))
			req.Header = r.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("held start: %v", err)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
		})
	})
	c, err := jupyter.NewClient(jupyter.Config{URL: proxy, Token: js.Token, LaunchTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := Start(context.Background(), Options{Client: c, Start: jupyter.StartOptions{Name: "clash"}})
	<-second
	abandoned := make(chan struct{})
	go func() {
		defer close(abandoned)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		h.Abandon(ctx)
	}()
	<-h.done // the cancelled start gave up on its request
	close(release)
	<-launched
	<-abandoned
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left after Abandon, want 0", n)
	}
}
