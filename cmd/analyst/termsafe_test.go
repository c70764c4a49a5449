package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/cell"
)

// TestKernelsListShowsControlCharacters runs kernels list and start against a gateway
// whose kernel fields and error bodies hold escape sequences (a real server
// has no such kernels: this fake is the hostile gateway): they are shown, not
// obeyed.
func TestKernelsListShowsControlCharacters(t *testing.T) {
	tests := []struct {
		name   string
		cmd    string
		status int
		body   string
		code   int
		stdout string
		stderr string
	}{
		{"kernel fields", "list", 200,
			`[{"id": "k1\u001b]52;c;cm0gLXJmIH4=\u0007", "name": "py\u001b[2J\tthon", "execution_state": "idle\u009b2J\nbusy", "connections": 1}]`,
			0,
			"ID                            NAME             STATE               CONNECTIONS  LAST ACTIVITY\n" +
				`k1\x1b]52;c;cm0gLXJmIH4=\x07  py\x1b[2J\tthon  idle\u009b2J\nbusy  1            -` + "\n",
			""},
		{"kernel id", "start", 201, `{"id": "k2\u001b]0;pwned\u0007", "name": "python3"}`, 0, `k2\x1b]0;pwned\x07` + "\n", ""},
		{"error body", "list", 500, `{"reason": "Internal Server Error", "message": "boom\u001b]0;pwned\u0007\u001bc"}`, 1, "",
			`analyst: list kernels: HTTP 500 Internal Server Error: boom\x1b]0;pwned\x07\x1bc` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/api" {
					io.WriteString(w, `{"version": "2.0.0"}`)
					return
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			io, stdout, stderr := testIO("")
			code := run(context.Background(), []string{"kernels", tt.cmd, "--gateway-url", srv.URL, "--gateway-token", "tok"}, io)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout:\n%q\nwant:\n%q", stdout, tt.stdout)
			}
			if got := stderr.String(); !strings.HasSuffix(got, tt.stderr) || strings.ContainsAny(got, "\x1b\x07") {
				t.Errorf("stderr = %q, want it to end with %q and hold no control characters", got, tt.stderr)
			}
		})
	}
}

// TestApproveShowsHiddenCode: the code a person approves is shown with its
// control characters visible, so that a carriage return or an escape
// sequence cannot hide what runs.
func TestApproveShowsHiddenCode(t *testing.T) {
	from := filepath.Join(t.TempDir(), "answers.txt")
	os.WriteFile(from, []byte("run\n"), 0o644)
	io, _, stderr := testIO("")
	a, err := newApprover(io, from)
	if err != nil {
		t.Fatal(err)
	}
	code := "import os; os.remove('data.csv')\r# print('hello')\x1b[2K"
	if _, err := a.Approve(context.Background(), cell.New(1, "python", code)); err != nil {
		t.Fatal(err)
	}
	want := "\n── cell 1, about to run ──\n" + `import os; os.remove('data.csv')\r# print('hello')\x1b[2K` + "\n"
	if got := stderr.String(); !strings.HasPrefix(got, want) {
		t.Errorf("stderr = %q, want it to start with %q", got, want)
	}
}
