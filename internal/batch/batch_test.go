package batch

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/cell"
)

func expect(t *testing.T, v any) Expectation {
	t.Helper()
	e, err := expectation(v)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestUnmet checks expectations against the evidence of a run: the final
// message, stream text even when split across outputs, text/plain results
// and errors.
func TestUnmet(t *testing.T) {
	cells := [][]cell.Output{
		{
			{OutputType: "stream", Name: "stdout", Text: "West: 7335"},
			{OutputType: "stream", Name: "stdout", Text: "99.48\nEast: 1.00\n"},
			{OutputType: "execute_result", Data: map[string]any{"text/plain": "np.float64(42.5)"}},
		},
		{{OutputType: "error", Ename: "KeyError", Evalue: "'region'"}},
	}
	// Sub-task 1 was an earlier message; only the final message's answer
	// is the summary.
	ev := Evidence{Summary: "The West sold most."}
	for _, outs := range cells {
		ev.Outputs = append(ev.Outputs, cell.Record{Status: cell.OK, Outputs: outs}.Finished().Cell.Text())
	}
	tests := []struct {
		expect any
		met    bool
	}{
		{"West: 733599.48", true},
		{"/^East: 1\\.00$/", true},
		{"np.float64(42.5)", true},
		{"KeyError: 'region'", true},
		{"West sold most", true},
		{map[string]any{"regex": `West sold (most|least)`}, true},
		{map[string]any{"text": "/most/"}, false},
		{"/^99/", false},      // the streams join: "99.48" continues the line "West: 7335"
		{"Sub-task 1", false}, // only the final message counts
		{"South: ", false},
	}
	for _, tt := range tests {
		e := expect(t, tt.expect)
		unmet := ev.Unmet([]Expectation{e})
		if met := len(unmet) == 0; met != tt.met {
			t.Errorf("%v: met = %t, want %t", tt.expect, met, tt.met)
		}
	}
}

func TestExpectationErrors(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{"", "expect: an empty expectation matches anything"},
		{"/a(/", "expect /a(/: bad regular expression: missing closing )"},
		{map[string]any{"re": "x"}, `expect: unknown field "re": want {regex: ...} or {text: ...}`},
		{map[string]any{"regex": 3}, "expect: regex: want non-empty text, got 3"},
		{3, "expect: want text, /regex/ or {regex: ...}, got 3"},
	}
	for _, tt := range tests {
		if _, err := expectation(tt.v); err == nil || err.Error() != tt.want {
			t.Errorf("%v: error %v, want %q", tt.v, err, tt.want)
		}
	}
}

// TestWriteJUnit: one suite, a testcase per task, failures and errors with
// the reason as message.
func TestWriteJUnit(t *testing.T) {
	dir := t.TempDir()
	results := []Result{
		{Name: "a", Status: Passed, Duration: 1500 * time.Millisecond, Records: "out/a"},
		{Name: "b", Status: Failed, Reason: `expect "x < y & z" not found`, Duration: 2 * time.Second, Records: "out/b"},
		{Name: "c", Status: Interrupted, Reason: "interrupted"},
	}
	if err := WriteJUnit(dir, results, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	var s JUnitSuite
	if err := xml.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Name != "analyst batch" || s.Tests != 3 || s.Failures != 1 || s.Errors != 1 || s.Time != "3.000" {
		t.Errorf("suite = %+v", s)
	}
	var got []string
	for _, c := range s.Cases {
		line := fmt.Sprintf("%s %s %s", c.Name, c.Classname, c.Time)
		if c.Failure != nil {
			line += " failure: " + c.Failure.Message
		}
		if c.Error != nil {
			line += " error: " + c.Error.Message
		}
		got = append(got, line)
	}
	want := []string{
		"a analyst.batch 1.500",
		`b analyst.batch 2.000 failure: expect "x < y & z" not found`,
		"c analyst.batch 0.000 error: interrupted",
	}
	if !slices.Equal(got, want) {
		t.Errorf("cases:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(string(b), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("junit.xml lacks the XML header:\n%s", b)
	}
}

func ExampleExpectation_Match() {
	for _, src := range []any{"West: 733599.48", "/^West: [0-9.]+$/", map[string]any{"regex": `Central: \d+`}} {
		e, _ := expectation(src)
		fmt.Printf("%s: %t\n", e, e.Match("Central: 501239.89\nWest: 733599.48\n"))
	}
	// Output:
	// West: 733599.48: true
	// /^West: [0-9.]+$/: true
	// /Central: \d+/: true
}
