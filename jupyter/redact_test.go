package jupyter_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/analyst-dev/analyst/jupyter"
)

// TestRedact: SessionOptions.Redact scrubs every text a cell produced, a
// stream's text after its chunks are merged (the secret is written in two
// flushed halves), MIME values and metadata, and the exception.
// TestRedact runs a cell that shows a secret every way, without and with
// OnOutput (which sees outputs redacted as they come): the result holds
// none of it, and each string of a MIME bundle is scrubbed once.
func TestRedact(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("OnOutput=%v", live), func(t *testing.T) { testRedact(t, live) })
	}
}

func testRedact(t *testing.T, live bool) {
	const secret = "SENTINEL-secret-4e1f"
	replace := strings.NewReplacer(secret, "[gone]").Replace
	var mu sync.Mutex
	htmlScrubs := 0
	opts := jupyter.SessionOptions{Redact: func(s string) string {
		if strings.HasPrefix(s, "<b>") {
			mu.Lock()
			htmlScrubs++
			mu.Unlock()
		}
		return replace(s)
	}}
	if live {
		opts.OnOutput = func(jupyter.Output) {}
	}
	_, s := newSession(t, opts)
	res := run(t, s, `import sys
s = 'SENTINEL-' + 'secret-4e1f'
sys.stdout.write(s[:5]); sys.stdout.flush()
sys.stdout.write(s[5:] + '\n'); sys.stdout.flush()
display({'text/plain': 'p ' + s, 'text/html': '<b>' + s + '</b>', 'application/json': {'k': [s, 1]}, 'image/png': s}, raw=True, metadata={'note': s})
raise ValueError('bad ' + s)`)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) || strings.Contains(string(b), "SENTINEL-secret") {
		t.Fatalf("the secret is in the result: %s", b)
	}
	if got := kinds(res.Outputs); strings.Join(got, " ") != "stream:stdout display_data error" {
		t.Fatalf("outputs %v", got)
	}
	o := res.Outputs[1]
	want := map[string]any{"text/plain": "p [gone]", "text/html": "<b>[gone]</b>", "application/json": map[string]any{"k": []any{"[gone]", 1.0}}, "image/png": "[gone]"}
	for k, v := range want {
		if g, _ := json.Marshal(o.Data[k]); string(g) != mustJSON(t, v) {
			t.Errorf("Data[%s] = %s, want %s", k, g, mustJSON(t, v))
		}
	}
	if o.Metadata["note"] != "[gone]" {
		t.Errorf("metadata = %v", o.Metadata)
	}
	if res.Outputs[0].Text != "[gone]\n" {
		t.Errorf("stream = %q", res.Outputs[0].Text)
	}
	if res.Error == nil || res.Error.Value != "bad [gone]" || !strings.Contains(res.Outputs[2].Text, "ValueError: bad [gone]") {
		t.Errorf("error = %+v, output %q", res.Error, res.Outputs[2].Text)
	}
	if htmlScrubs != 1 {
		t.Errorf("the text/html string was scrubbed %d times, want once", htmlScrubs)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRedactOnce: every byte of a cell's stream is scrubbed once, with and
// without OnOutput; a display is reported scrubbed; and a display updated in
// place is scrubbed too, once for the two outputs showing it.
func TestRedactOnce(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("OnOutput=%v", live), func(t *testing.T) {
			const secret = "SENTINEL-secret-4e1f"
			var mu sync.Mutex
			scrubbed, updates := 0, 0
			opts := jupyter.SessionOptions{Redact: func(s string) string {
				mu.Lock()
				scrubbed += strings.Count(s, "row ")
				updates += strings.Count(s, "now ")
				mu.Unlock()
				return strings.ReplaceAll(s, secret, "[gone]")
			}}
			var reported strings.Builder
			var shown []any
			if live {
				opts.OnOutput = func(o jupyter.Output) {
					if o.Type == "stream" {
						reported.WriteString(o.Text)
					} else {
						shown = append(shown, o.Data["text/plain"])
					}
				}
			}
			_, s := newSession(t, opts)
			res := run(t, s, `import sys
s = 'SENTINEL-' + 'secret-4e1f'
for i in range(300):
    sys.stdout.write('row %d ' % i); sys.stdout.flush()
    sys.stdout.write(s[:i % 20]); sys.stdout.flush()
    sys.stdout.write(s[i % 20:] + '\n'); sys.stdout.flush()
h = display({'text/plain': 'first ' + s}, raw=True, display_id=True)
h.display({'text/plain': 'again'}, raw=True)
h.update({'text/plain': 'now ' + s}, raw=True)`)
			var want strings.Builder
			for i := range 300 {
				fmt.Fprintf(&want, "row %d [gone]\n", i)
			}
			if len(res.Outputs) != 3 || res.Outputs[0].Text != want.String() {
				t.Fatalf("outputs %v, stream %q", kinds(res.Outputs), res.Outputs[0].Text)
			}
			if scrubbed != 300 {
				t.Errorf("the stream's rows were scrubbed %d times, want 300 (once each)", scrubbed)
			}
			if live && reported.String() != want.String() {
				t.Errorf("reported %q", reported.String())
			}
			if live && !slices.Equal(shown, []any{"first [gone]", "again"}) {
				t.Errorf("displays reported %q", shown)
			}
			for _, o := range res.Outputs[1:] {
				if got := o.Data["text/plain"]; got != "now [gone]" {
					t.Errorf("updated display = %v", got)
				}
			}
			if updates != 1 {
				t.Errorf("the update was scrubbed %d times, want once", updates)
			}
		})
	}
}
