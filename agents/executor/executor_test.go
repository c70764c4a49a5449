package executor

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// kernel plays results for the cells it is given, recording the code.
type kernel struct {
	results  []*jupyter.Result
	errs     []error
	ran      []string
	restarts int
}

func (k *kernel) Execute(_ context.Context, code string) (*jupyter.Result, error) {
	k.ran = append(k.ran, code)
	i := len(k.ran) - 1
	var err error
	if i < len(k.errs) {
		err = k.errs[i]
	}
	return k.results[i], err
}

func (k *kernel) Restart(context.Context) error { k.restarts++; return nil }

func pngBase64(t *testing.T, w, h int) string {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func history(code string) []team.Message {
	return []team.Message{{Agent: team.UserAgent, Content: "task"}, {Agent: "writer", Content: code}}
}

func act(t *testing.T, e *Executor, h []team.Message) (team.Message, []team.Event) {
	t.Helper()
	var events []team.Event
	msg, err := e.Act(context.Background(), h, func(ev team.Event) { events = append(events, ev) })
	if err != nil {
		t.Fatal(err)
	}
	return msg, events
}

func TestActRunsBlocksAndFormats(t *testing.T) {
	dir := t.TempDir()
	k := &kernel{results: []*jupyter.Result{
		{Status: "ok", ExecutionCount: 1, Duration: 210 * time.Millisecond, Outputs: []jupyter.Output{
			{Type: "stream", Name: "stdout", Text: "(9994, 21)\n"},
			{Type: "display_data", Data: map[string]any{"image/png": pngBase64(t, 640, 480), "text/plain": "<Figure size 640x480 with 1 Axes>"}},
			{Type: "execute_result", ExecutionCount: 1, Data: map[string]any{"text/plain": "42", "text/html": "<b>42</b>"}},
		}},
	}}
	e := New(k, Options{Figures: &cell.FigureDir{Dir: dir}})
	msg, events := act(t, e, history("Load it:\n```python\ndf = load()\n```\nand\n```bash\nls\n```\nthen"))

	if len(k.ran) != 1 || k.ran[0] != "df = load()" {
		t.Fatalf("ran %q, want only the Python block", k.ran)
	}
	want := "[cell 1] ok, execution count 1, 210ms\n(9994, 21)\n[image/png 640x480 saved as figure-1.png]\n42\n\n" +
		"[cell 2] not run: bash is not run: the kernel runs Python only. Use Python (the subprocess module) for anything a shell would do."
	if msg.Content != want {
		t.Errorf("content:\n%s\nwant:\n%s", msg.Content, want)
	}
	var cells []cell.Cell
	for _, ev := range events {
		if f, ok := ev.(cell.Finished); ok {
			cells = append(cells, f.Cell)
		}
	}
	if len(msg.Cells) != 2 || len(cells) != 2 || cells[0].Figures[0].Name != "figure-1.png" || cells[1].Status() != "skipped" {
		t.Errorf("cells = %+v, %+v", msg.Cells, cells)
	}
	if fi, err := os.Stat(filepath.Join(dir, "figure-1.png")); err != nil || fi.Size() == 0 {
		t.Errorf("figure-1.png not saved: %v", err)
	}
	if len(events) != 4 {
		t.Errorf("%d events, want CellStarted/CellFinished twice", len(events))
	}
}

func TestActStopsAtFirstError(t *testing.T) {
	k := &kernel{results: []*jupyter.Result{{
		Status: "error", ExecutionCount: 4, Duration: time.Second,
		Error: &jupyter.ExecError{Name: "KeyError", Value: "'region'", Traceback: []string{"\x1b[0;31mKeyError\x1b[0m: 'region'"}},
	}}}
	e := New(k, Options{})
	msg, _ := act(t, e, history("```python\na()\n```\n```python\nb()\n```"))
	if len(k.ran) != 1 {
		t.Fatalf("ran %d cells, want 1", len(k.ran))
	}
	want := "[cell 1] error, execution count 4, 1s\nKeyError: 'region'\n\n[cell 2] not run: cell 1 failed first."
	if msg.Content != want {
		t.Errorf("content:\n%q\nwant\n%q", msg.Content, want)
	}
}

func TestActNoCodeHandsBackToWriter(t *testing.T) {
	e := New(&kernel{}, Options{Writer: "writer"})
	msg, _ := act(t, e, history("I think we should look at the data first."))
	if msg.Next != "writer" || !strings.HasPrefix(msg.Content, "No code to run") {
		t.Errorf("msg = %+v", msg)
	}
}

func TestActTimeoutAndKernelDeath(t *testing.T) {
	k := &kernel{
		results: []*jupyter.Result{
			{Status: "error", TimedOut: true, Duration: 2 * time.Second, Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: "tick\n"}}},
			{Status: "error"},
		},
		errs: []error{nil, jupyter.ErrKernelDied},
	}
	e := New(k, Options{})
	msg, _ := act(t, e, history("```python\nwhile True: pass\n```"))
	if want := "[cell 1] timeout, 2s\nThe cell timed out after 2s and was interrupted. The kernel and its variables are kept; make the computation smaller or faster.\ntick"; msg.Content != want {
		t.Errorf("timeout:\n%q\nwant\n%q", msg.Content, want)
	}
	msg, events := act(t, e, history("```python\nimport os; os._exit(1)\n```"))
	if k.restarts != 1 || !strings.HasPrefix(msg.Content, "[cell 2] kernel died; restarted; variables lost.") {
		t.Errorf("restarts = %d, content %q", k.restarts, msg.Content)
	}
	var noticed bool
	for _, ev := range events {
		if n, ok := ev.(team.Notice); ok && n.Warning {
			noticed = true
		}
	}
	if !noticed {
		t.Error("no warning notice about the dead kernel")
	}
}

func TestActTransportErrorEndsTurn(t *testing.T) {
	boom := errors.New("gateway unreachable")
	e := New(&kernel{results: []*jupyter.Result{nil}, errs: []error{boom}}, Options{})
	_, err := e.Act(context.Background(), history("```python\n1\n```"), func(team.Event) {})
	if !errors.Is(err, boom) || err.Error() != "run cell 1: gateway unreachable" {
		t.Errorf("err = %v", err)
	}
}

func TestInputHint(t *testing.T) {
	res := &jupyter.Result{Status: "error", Error: &jupyter.ExecError{Name: "StdinNotImplementedError", Value: "raw_input was called, but this frontend does not support input requests."}}
	got := cell.Cell{Index: 1, Result: res}.ForLLM(0)
	if !strings.HasSuffix(got, "input() is not available here: the code must not ask for input.") {
		t.Errorf("Text = %q", got)
	}
}

func TestRebuildStateAfterRestart(t *testing.T) {
	ok := &jupyter.Result{Status: "ok"}
	k := &kernel{
		results: []*jupyter.Result{ok, {Status: "error", Error: &jupyter.ExecError{Name: "NameError"}}, ok, {Status: "error"}, ok, ok},
		errs:    []error{nil, nil, nil, jupyter.ErrKernelDied},
	}
	e := New(k, Options{RebuildState: true})
	act(t, e, history("```python\na = 1\n```"))
	act(t, e, history("```python\nb = nope\n```"))
	act(t, e, history("```python\nc = a + 1\n```"))
	msg, _ := act(t, e, history("```python\nimport os; os._exit(1)\n```"))
	if k.restarts != 1 {
		t.Fatalf("restarts = %d", k.restarts)
	}
	// After the restart only the cells that had succeeded ran again, in order.
	if got := strings.Join(k.ran[4:], "|"); got != "a = 1|c = a + 1" {
		t.Errorf("re-ran %q", got)
	}
	want := "[cell 4] kernel died; restarted; state rebuilt by re-running 2 earlier cells (0 failed). The variables of those cells are back; this cell's own work is lost: run it again."
	if !strings.HasPrefix(msg.Content, want) {
		t.Errorf("content:\n%s\nwant prefix:\n%s", msg.Content, want)
	}
}

// quietKernel is a kernel that also answers silent requests: the state
// card's.
type quietKernel struct {
	kernel
	state  *jupyter.Result
	err    error
	silent []string
}

func (k *quietKernel) ExecuteSilent(_ context.Context, code string) (*jupyter.Result, error) {
	k.silent = append(k.silent, code)
	return k.state, k.err
}

func TestActDescribesTheKernelState(t *testing.T) {
	ok := &jupyter.Result{Status: "ok", ExecutionCount: 1, Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: "4242.42\n"}}}
	card := &jupyter.Result{Status: "ok", Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: "answer: float = 4242.42\ndf: DataFrame 9994x21 columns Region, Sales"}}}
	tests := []struct {
		name  string
		state *jupyter.Result
		err   error
		want  string
	}{
		{"card", card, nil, "answer: float = 4242.42\ndf: DataFrame 9994x21 columns Region, Sales"},
		{"no variables", &jupyter.Result{Status: "ok"}, nil, "(no variables yet)"},
		{"failed", nil, errors.New("connection lost"), ""},
		{"exception", &jupyter.Result{Status: "error", Error: &jupyter.ExecError{Name: "RecursionError"}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &quietKernel{kernel: kernel{results: []*jupyter.Result{ok}}, state: tt.state, err: tt.err}
			msg, _ := act(t, New(k, Options{}), history("```python\nanswer = 4242.42\nprint(answer)\n```"))
			if msg.State != tt.want {
				t.Errorf("state %q, want %q", msg.State, tt.want)
			}
			if len(k.ran) != 1 || len(k.silent) != 1 || k.silent[0] != stateCode {
				t.Errorf("ran %d cells and %d silent requests, want 1 and the state code", len(k.ran), len(k.silent))
			}
			if !strings.HasPrefix(msg.Content, "[cell 1] ok") {
				t.Errorf("content %q", msg.Content)
			}
		})
	}
}
