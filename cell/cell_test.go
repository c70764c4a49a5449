package cell

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/analyst-dev/analyst/jupyter"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		c    Cell
		want Status
	}{
		{Cell{Skipped: "bash"}, Skipped},
		{Cell{Skip: NotPython}, Skipped},
		{Cell{Err: errors.New("x")}, Failed},
		{Cell{Restart: &Restart{}, Result: &jupyter.Result{}}, Failed},
		{Cell{}, Skipped},
		{Cell{Result: &jupyter.Result{Status: "ok"}}, OK},
		{Cell{Result: &jupyter.Result{Status: "error"}}, Error},
		{Cell{Result: &jupyter.Result{Error: &jupyter.ExecError{Name: "E"}}}, Error},
		{Cell{Result: &jupyter.Result{TimedOut: true}}, Timeout},
		{Cell{Result: &jupyter.Result{Canceled: true}}, Interrupted},
	}
	for _, tt := range tests {
		if got := tt.c.Status(); got != tt.want {
			t.Errorf("%+v.Status() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

// TestHeadTail checks HeadTail against slicing Lines.
func TestHeadTail(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	texts := []string{"a\nb\n", "one line", "\n\n\n", "x\ny\nz", "", "tail\n"}
	for range 2000 {
		res := &jupyter.Result{Status: "ok"}
		for range rng.IntN(6) {
			name := []string{"stdout", "stderr"}[rng.IntN(2)]
			res.Outputs = append(res.Outputs, jupyter.Output{Type: "stream", Name: name, Text: texts[rng.IntN(len(texts))]})
		}
		if rng.IntN(3) == 0 {
			res.Error = &jupyter.ExecError{Name: "E", Value: "v", Traceback: []string{"tb 1", "tb 2"}}
		}
		if rng.IntN(4) == 0 {
			res.DroppedBytes = 7
		}
		c := Cell{Index: 1, Result: res}
		if rng.IntN(5) == 0 {
			c.Err = errors.New("failed\nbadly")
		}
		all, max := c.Lines(), rng.IntN(12)
		head, tail, omitted := c.HeadTail(max)
		if max == 0 || len(all) <= max {
			if !slices.Equal(head, all) || tail != nil || omitted != 0 {
				t.Fatalf("HeadTail(%d) of %d lines = %v, %v, %d", max, len(all), head, tail, omitted)
			}
			continue
		}
		h := max / 2
		if !slices.Equal(head, all[:h]) || !slices.Equal(tail, all[len(all)-(max-h):]) || omitted != len(all)-max {
			t.Fatalf("HeadTail(%d) of %v =\n%v\n%v\n%d", max, all, head, tail, omitted)
		}
	}
}

func TestTextOfOneStream(t *testing.T) {
	for text, want := range map[string]string{
		"a\nb\n":                 "a\nb\n",
		"a\nb":                   "a\nb\n",
		"a\n\n":                  "a\n\n",
		"\x1b[31mred\x1b[0m\n":   "red\n",
		"10%\r50%\r100%\ndone\n": "100%\ndone\n",
		"\n":                     "\n",
	} {
		c := Cell{Index: 1, Result: &jupyter.Result{Status: "ok", Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: text}}}}
		if got := c.Text(); got != want {
			t.Errorf("Text of %q = %q, want %q", text, got, want)
		}
	}
}

// TestRecordedErr: a recorded failure comes back as the error it was in
// words, and no failure as no error, so a recorded cell keeps its status.
func TestRecordedErr(t *testing.T) {
	if err := RecordedErr(""); err != nil {
		t.Errorf(`RecordedErr("") = %v, want nil`, err)
	}
	var rec *ErrRecorded
	if err := RecordedErr("connection to the kernel lost"); !errors.As(err, &rec) || err.Error() != "connection to the kernel lost" {
		t.Errorf("RecordedErr = %#v, want an *ErrRecorded with its text", err)
	}
	c := Record{Index: 1, Status: Failed, Failure: "connection to the kernel lost"}.Finished().Cell
	if c.Status() != Failed || c.Failure() != "connection to the kernel lost" {
		t.Errorf("recorded cell: status %v, failure %q; want failed with its text", c.Status(), c.Failure())
	}
}
