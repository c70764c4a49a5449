package redact_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/analyst-dev/analyst/internal/redact"
)

const (
	key   = "sk-SENTINEL-KEY-0123456789"
	token = "gateway-token-abcdef"
)

func newRedactor(hits *[]string) *redact.Redactor {
	r := &redact.Redactor{OnFirst: func(name string) { *hits = append(*hits, name) }}
	r.Add("OPENAI_API_KEY", key)
	r.Add("gateway token", token)
	return r
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nothing secret here", "nothing secret here"},
		{"key=" + key + "\n", "key=[redacted OPENAI_API_KEY]\n"},
		{key + key, "[redacted OPENAI_API_KEY][redacted OPENAI_API_KEY]"},
		{"{'OPENAI_API_KEY': '" + key + "', 'JUPYTER_TOKEN': '" + token + "'}", "{'OPENAI_API_KEY': '[redacted OPENAI_API_KEY]', 'JUPYTER_TOKEN': '[redacted gateway token]'}"},
		{key[:len(key)-1], key[:len(key)-1]}, // a prefix alone is not the secret
		{"", ""},
	}
	var hits []string
	r := newRedactor(&hits)
	for _, tt := range tests {
		if got := r.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if len(hits) != 1 || hits[0] != "OPENAI_API_KEY" {
		t.Errorf("OnFirst calls: %q, want one for OPENAI_API_KEY", hits)
	}
}

// A secret that holds another is replaced whole, whichever was added first.
func TestRedactNestedSecrets(t *testing.T) {
	for _, order := range [][2]string{{"short", "long"}, {"long", "short"}} {
		r := &redact.Redactor{}
		vals := map[string]string{"short": "abcdefgh", "long": "xx-abcdefgh-yy"}
		for _, name := range order {
			r.Add(name, vals[name])
		}
		if got, want := r.Redact("1 xx-abcdefgh-yy 2 abcdefgh"), "1 [redacted long] 2 [redacted short]"; got != want {
			t.Errorf("added %v: got %q, want %q", order, got, want)
		}
	}
}

// Values shorter than MinLen are not looked for: a 4-character token would
// replace every occurrence of an ordinary word.
func TestShortSecretsIgnored(t *testing.T) {
	r := &redact.Redactor{}
	r.Add("gateway token", "test")
	r.Add("OPENAI_API_KEY", "")
	r.Add("x", strings.Repeat("a", redact.MinLen-1))
	in := "test results: aaaaaaa"
	if got := r.Redact(in); got != in {
		t.Errorf("Redact(%q) = %q", in, got)
	}
	r.Add("long enough", strings.Repeat("b", redact.MinLen))
	if got := r.Redact("bbbbbbbb"); got != "[redacted long enough]" {
		t.Errorf("a secret of MinLen bytes: %q", got)
	}
}

func TestNilRedactor(t *testing.T) {
	var r *redact.Redactor
	if r.Redact(key) != key || r.Partial(key) != 0 {
		t.Error("a nil Redactor changed something")
	}
}

func TestPartial(t *testing.T) {
	var hits []string
	r := newRedactor(&hits)
	tests := []struct {
		in   string
		want int
	}{
		{"hello", 0},
		{"hello s", 1},
		{"hello sk-SENT", 7},
		{"hello " + key, 0}, // whole: Redact replaces it
		{"gate", 4},
		{"hello " + key[:len(key)-1], len(key) - 1},
		{"", 0},
	}
	for _, tt := range tests {
		if got := r.Partial(tt.in); got != tt.want {
			t.Errorf("Partial(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// Secrets added while other goroutines redact are found from then on.
func TestConcurrentAdd(t *testing.T) {
	r := &redact.Redactor{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				r.Redact("some output " + key)
			}
		})
	}
	r.Add("OPENAI_API_KEY", key)
	wg.Wait()
	if got := r.Redact(key); got != "[redacted OPENAI_API_KEY]" {
		t.Errorf("after Add: %q", got)
	}
}

// BenchmarkRedact scrubs a cell's output at the default --max-output
// (4 MiB) that holds no secret, the common case.
func BenchmarkRedact(b *testing.B) {
	var hits []string
	r := newRedactor(&hits)
	text := strings.Repeat("West: 725457.82 East: 678781.24\n", 4<<20/32)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		r.Redact(text)
	}
}
