package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeEG is the start endpoint of an Enterprise Gateway: it records each
// start request's env and answers with refuse(n) for the n-th request when
// that is not zero, else 201.
type fakeEG struct {
	refuse func(n int) (status int, message string)

	mu   sync.Mutex
	envs []map[string]string
}

func (f *fakeEG) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/kernels" {
		http.NotFound(w, r)
		return
	}
	var body struct {
		Env map[string]string `json:"env"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.envs = append(f.envs, body.Env)
	n := len(f.envs)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.refuse != nil {
		if status, msg := f.refuse(n); status != 0 {
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"reason": "Forbidden", "message": msg})
			return
		}
	}
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"id": "0b7c9e2a-5d3f-4e1a-9c8b-7a6f5e4d3c2b", "name": "python_kubernetes"}`)
}

func (f *fakeEG) requests() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.envs
}

func startFakeEG(t *testing.T, refuse func(int) (int, string)) (*fakeEG, string) {
	t.Helper()
	eg := &fakeEG{refuse: refuse}
	srv := httptest.NewServer(eg)
	t.Cleanup(srv.Close)
	return eg, srv.URL
}

func TestStartSendsKernelEnv(t *testing.T) {
	t.Setenv("JUPYTER_GATEWAY_AUTH_TOKEN", "")
	t.Setenv("USER", "bob")
	t.Setenv("KERNEL_NAMESPACE", "analytics")
	tests := []struct {
		name     string
		username string // KERNEL_USERNAME in the environment
		want     string
	}{
		{"KERNEL_USERNAME from the environment", "alice", "alice"},
		{"else the login name", "", "bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KERNEL_USERNAME", tt.username)
			eg, url := startFakeEG(t, nil)
			code, out, errb := runCLI(t, context.Background(), "kernels", "start", "--gateway-url", url, "--kernel", "python_kubernetes", "--launch-timeout", "120s")
			if code != 0 || strings.TrimSpace(out) == "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
			}
			reqs := eg.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d start requests, want 1", len(reqs))
			}
			want := map[string]string{
				"KERNEL_USERNAME":       tt.want,
				"KERNEL_LAUNCH_TIMEOUT": "120",
				"KERNEL_NAMESPACE":      "analytics",
				"KERNEL_ANALYST_RUN":    "kernels-start",
			}
			for k, v := range want {
				if got := reqs[0][k]; got != v {
					t.Errorf("%s = %q, want %q (env %v)", k, got, v, reqs[0])
				}
			}
		})
	}
}

func TestStartUserNotAuthorized(t *testing.T) {
	t.Setenv("KERNEL_USERNAME", "root")
	eg, url := startFakeEG(t, func(int) (int, string) {
		return 403, "User 'root' is not authorized to start kernel 'Python on Kubernetes'. Ensure KERNEL_USERNAME is set to an appropriately authorized user and retry the request."
	})
	code, _, errb := runCLI(t, context.Background(), "kernels", "start", "--gateway-url", url, "--kernel", "python_kubernetes")
	want := `analyst: start kernel "python_kubernetes": the gateway refuses to start kernels for user "root": set KERNEL_USERNAME to an allowed user (HTTP 403: User 'root' is not authorized to start kernel 'Python on Kubernetes')` + "\n"
	if code != exitFailed || errb != want {
		t.Errorf("exit %d, stderr %q; want %d and %q", code, errb, exitFailed, want)
	}
	if n := len(eg.requests()); n != 1 {
		t.Errorf("%d start requests, want exactly 1 (never retried)", n)
	}
}

func TestStartQueuesAtKernelLimit(t *testing.T) {
	const limit = "Resource Limit: maximum of 4 kernels reached"
	t.Run("waits and says so once", func(t *testing.T) {
		eg, url := startFakeEG(t, func(n int) (int, string) {
			if n == 1 {
				return 403, limit
			}
			return 0, ""
		})
		start := time.Now()
		code, out, errb := runCLI(t, context.Background(), "kernels", "start", "--gateway-url", url, "--queue-timeout", "1m")
		if code != 0 || strings.TrimSpace(out) == "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
		}
		if want := "analyst: gateway at its kernel limit; waiting for a free slot (up to 1m)\n"; errb != want {
			t.Errorf("stderr = %q, want %q", errb, want)
		}
		if n := len(eg.requests()); n != 2 || time.Since(start) > 10*time.Second {
			t.Errorf("%d start requests in %v, want 2 within the first backoff", n, time.Since(start))
		}
	})
	t.Run("--queue-timeout 0 fails at once", func(t *testing.T) {
		eg, url := startFakeEG(t, func(int) (int, string) { return 403, limit })
		code, _, errb := runCLI(t, context.Background(), "kernels", "start", "--gateway-url", url, "--queue-timeout", "0")
		if code != exitFailed || !strings.Contains(errb, "maximum of 4 kernels") || strings.Count(errb, "\n") != 1 || len(eg.requests()) != 1 {
			t.Errorf("exit %d, stderr %q after %d requests; want one request and a one-line error", code, errb, len(eg.requests()))
		}
	})
}

func TestKernelEnvUsageErrors(t *testing.T) {
	tests := []struct {
		name, key, value string
		args             []string
		want             string
	}{
		{"dollar", "KERNEL_NAMESPACE", "team$HOME", nil, `analyst: environment variable KERNEL_NAMESPACE holds "$", a backquote or a line break, which the gateway refuses: remove them`},
		{"backquote", "KERNEL_IMAGE", "img`id`", nil, `analyst: environment variable KERNEL_IMAGE holds "$", a backquote or a line break, which the gateway refuses: remove them`},
		{"newline", "KERNEL_NAMESPACE", "a\nb", nil, `analyst: environment variable KERNEL_NAMESPACE holds "$", a backquote or a line break, which the gateway refuses: remove them`},
		{"too long", "KERNEL_EXTRA", strings.Repeat("x", 4097), nil, "analyst: environment variable KERNEL_EXTRA is 4097 characters long: the gateway accepts at most 4096"},
		{"launch timeout", "KERNEL_LAUNCH_TIMEOUT", "soon", nil, `analyst: environment variable KERNEL_LAUNCH_TIMEOUT="soon" must be a positive number of seconds (or use --launch-timeout)`},
		{"negative queue timeout", "KERNEL_X", "ok", []string{"--queue-timeout", "-1s"}, "analyst: --queue-timeout must be 0 (fail at once) or positive, got -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eg, url := startFakeEG(t, nil)
			t.Setenv(tt.key, tt.value)
			args := append([]string{"kernels", "start", "--gateway-url", url}, tt.args...)
			code, _, errb := runCLI(t, context.Background(), args...)
			if code != exitUsage || errb != tt.want+"\n" || len(eg.requests()) != 0 {
				t.Errorf("exit %d, stderr %q, %d requests; want %d, %q and none", code, errb, len(eg.requests()), exitUsage, tt.want)
			}
		})
	}
}
