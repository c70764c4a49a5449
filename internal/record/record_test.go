package record

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t0.Add(d)
}

// pngBase64 returns a small real PNG, base64-encoded as a kernel sends it.
func pngBase64(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := range 4 {
		for y := range 3 {
			img.Set(x, y, color.RGBA{uint8(60 * x), uint8(80 * y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

const (
	stepText  = "Load sales.csv | print its shape and the first rows.\n\nUse pandas."
	code1     = "import pandas as pd\ndf = pd.read_csv('sales.csv')\nprint('shape', df.shape)\ndf.plot()\ndf.head()"
	code2     = "print('before')\n1/0"
	code3     = "ls -l"
	finalText = "The data holds 3 rows and 2 columns; sales peak in March.\n\nTERMINATION"
	// finalSummary is finalText without the stop word, as the planner
	// reports it.
	finalSummary = "The data holds 3 rows and 2 columns; sales peak in March."
	bashSkip     = "bash is not run: the kernel runs Python only"
)

var traceback = []string{
	"\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
	"\x1b[0;31mZeroDivisionError\x1b[0m                         Traceback (most recent call last)",
	"Cell \x1b[0;32mIn[2], line 2\x1b[0m\n\x1b[1;32m      1\x1b[0m \x1b[38;5;28mprint\x1b[39m(\x1b[38;5;124m'before'\x1b[39m)\n\x1b[0;32m----> 2\x1b[0m \x1b[38;5;241m1\x1b[39m\x1b[38;5;241m/\x1b[39m\x1b[38;5;241m0\x1b[39m",
	"\x1b[0;31mZeroDivisionError\x1b[0m: division by zero",
}

// step is an event and the time (from t0) at which it happens.
type scripted struct {
	at time.Duration
	e  team.Event
}

// script is a whole run: a sub-task, a cell with stdout, a PNG and an HTML
// result, a cell raising an exception, a skipped bash cell and the final
// summary.
func script(t *testing.T) []scripted {
	img := pngBase64(t)
	cell1 := cell.Cell{Index: 1, Language: "python", Code: code1, Result: &jupyter.Result{
		Outputs: []jupyter.Output{
			{Type: "stream", Name: "stdout", Text: "shape (3, 2)\n"},
			{Type: "display_data", Data: map[string]any{"image/png": img, "text/plain": "<Figure size 640x480 with 1 Axes>"},
				Metadata: map[string]any{"image/png": map[string]any{"width": 4.0, "height": 3.0}}},
			{Type: "execute_result", ExecutionCount: 1, Data: map[string]any{
				"text/html":  "<table><tr><th>month</th><th>sales</th></tr><tr><td>Jan</td><td>10</td></tr></table>",
				"text/plain": "  month  sales\n0   Jan     10",
			}},
		},
		ExecutionCount: 1, Status: "ok", Duration: 1500 * time.Millisecond,
	}}
	cell1.Figures = cell.ResolveFigures(cell1.Result, []string{"figure-1.png"})
	exc := &jupyter.ExecError{Name: "ZeroDivisionError", Value: "division by zero", Traceback: traceback}
	cell2 := cell.Cell{Index: 2, Language: "python", Code: code2, Result: &jupyter.Result{
		Outputs: []jupyter.Output{
			{Type: "stream", Name: "stdout", Text: "before\n"},
			{Type: "error", Text: exc.PlainTraceback()},
		},
		Error: exc, ExecutionCount: 2, Status: "error", Duration: 20 * time.Millisecond,
	}}
	cell3 := cell.Cell{Index: 3, Language: "bash", Code: code3, Skipped: bashSkip}
	return []scripted{
		{0, team.RunStarted{Task: "What sells best?", Agents: []string{"planner", "writer", "executor"}, Time: t0}},
		{0, team.TurnStarted{Turn: 1, Agent: "planner"}},
		{time.Second, team.TextDelta{Agent: "planner", Text: "Load"}},
		{2 * time.Second, team.MessageDone{Turn: 1, Message: team.Message{Agent: "planner", Content: stepText,
			Usage: team.Usage{PromptTokens: 300000, CompletionTokens: 100000}, Duration: 2 * time.Second}}},
		{2 * time.Second, team.TurnStarted{Turn: 2, Agent: "writer"}},
		{3 * time.Second, team.Retry{Agent: "writer", Attempt: 1, Wait: 1500 * time.Millisecond, Reason: "429 Too Many Requests"}},
		{5 * time.Second, team.MessageDone{Turn: 2, Message: team.Message{Agent: "writer", Content: "```python\n" + code1 + "\n```",
			Usage: team.Usage{PromptTokens: 400000, CompletionTokens: 50000, Estimated: true}, Duration: 3 * time.Second}}},
		{5 * time.Second, team.TurnStarted{Turn: 3, Agent: "executor"}},
		{5 * time.Second, cell.Started{Agent: "executor", Index: 1, Language: "python", Code: code1}},
		{7 * time.Second, cell.Finished{Agent: "executor", Cell: cell1}},
		{7 * time.Second, cell.Started{Agent: "executor", Index: 2, Language: "python", Code: code2}},
		{8 * time.Second, cell.Finished{Agent: "executor", Cell: cell2}},
		{8 * time.Second, cell.Started{Agent: "executor", Index: 3, Language: "bash", Code: code3}},
		{8 * time.Second, cell.Finished{Agent: "executor", Cell: cell3}},
		{8 * time.Second, team.Notice{Text: "the kernel is slow", Warning: true}},
		{8 * time.Second, team.MessageDone{Turn: 3, Message: team.Message{Agent: "executor", Content: "cell 1 ok …",
			Cells: []int{1, 2, 3}, Duration: 3 * time.Second}}},
		{8 * time.Second, team.TurnStarted{Turn: 4, Agent: "planner"}},
		{10 * time.Second, team.MessageDone{Turn: 4, Message: team.Message{Agent: "planner", Content: finalText,
			Usage: team.Usage{PromptTokens: 300000, CompletionTokens: 50000}, Final: true, Summary: finalSummary, Duration: 2 * time.Second}}},
		{10 * time.Second, team.RunFinished{Reason: team.StopTerminated, Turns: 4, Duration: 10 * time.Second, Usage: map[string]team.Usage{
			"planner":  {PromptTokens: 600000, CompletionTokens: 150000},
			"writer":   {PromptTokens: 400000, CompletionTokens: 50000, Estimated: true},
			"executor": {},
		}}},
	}
}

func testMeta() Meta {
	return Meta{
		Task:     "What sells best?",
		Data:     []DataFile{{Name: "sales.csv", Path: "/data/sales.csv", Size: 1234, SHA256: "ab12"}},
		Models:   map[string]string{"planner": "gpt-4o-mini", "writer": "gpt-4o-mini"},
		Gateway:  "https://gw.example.com:8888/base?token=sk-SENTINEL-123",
		Kernel:   "python3",
		Version:  "v0.1.0",
		Started:  t0,
		Limits:   map[string]string{"max-turns": "30"},
		PriceIn:  0.15,
		PriceOut: 0.60,
	}
}

// record feeds the first n events of the script (all when n < 0) to a new
// Recorder in a fresh directory and returns it, not closed.
func record(t *testing.T, n int) *Recorder {
	t.Helper()
	return recordOn(t, n, nil)
}

// recordOn is record on a file system that setup, when not nil, describes
// to the notebook's files.
func recordOn(t *testing.T, n int, setup func(*nbFile)) *Recorder {
	t.Helper()
	t.Setenv("OPENAI_API_KEY", "sk-SENTINEL-123")
	t.Setenv("JUPYTER_GATEWAY_AUTH_TOKEN", "sk-SENTINEL-123")
	clk := &clock{t: t0}
	r, err := newRecorder(filepath.Join(t.TempDir(), "run"), testMeta(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(r.nb)
	}
	s := script(t)
	if n < 0 {
		n = len(s)
	}
	for _, st := range s[:n] {
		clk.set(st.at)
		r.Observe(st.e)
	}
	return r
}

// validateNotebook checks the notebook with nbformat's own validator.
func validateNotebook(t *testing.T, path string) {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import nbformat").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s has no nbformat (apt-get install python3-nbformat): %v", py, err)
		}
		t.Skipf("%s has no nbformat: %v", py, err)
	}
	out, err := exec.Command(py, "-c", "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", path).CombinedOutput()
	if err != nil {
		t.Fatalf("%s is not a valid notebook: %v\n%s", path, err, out)
	}
}

func readJSONL(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		t.Errorf("%s does not end with a newline", path)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestEventsFile(t *testing.T) {
	r := record(t, -1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readJSONL(t, filepath.Join(r.Dir(), EventsFile))
	var types []string
	for _, l := range lines {
		var v struct{ Type string }
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		types = append(types, v.Type)
	}
	want := []string{
		"run_started", "request_started", "turn_started", "message", "turn_started", "retry", "message", "turn_started",
		"cell_started", "cell_finished", "cell_started", "cell_finished", "cell_started", "cell_finished",
		"notice", "message", "turn_started", "message", "request_finished", "run_finished",
	}
	if !slices.Equal(types, want) {
		t.Fatalf("types:\n got %q\nwant %q", types, want)
	}

	exact := map[int]string{
		0: `{"type":"run_started","time":"2025-03-04T10:00:00Z","task":"What sells best?","data":[{"name":"sales.csv","path":"/data/sales.csv","size":1234,"sha256":"ab12"}],"models":{"planner":"gpt-4o-mini","writer":"gpt-4o-mini"},"gateway":"https://gw.example.com:8888/base","kernel":"python3","version":"v0.1.0","started":"2025-03-04T10:00:00Z","limits":{"max-turns":"30"},"price_in":0.15,"price_out":0.6}`,
		2: `{"type":"turn_started","time":"2025-03-04T10:00:00Z","turn":1,"agent":"planner"}`,
		3: `{"type":"message","time":"2025-03-04T10:00:02Z","turn":1,"agent":"planner","content":"Load sales.csv | print its shape and the first rows.\n\nUse pandas.","usage":{"prompt_tokens":300000,"completion_tokens":100000,"estimated":false},"final":false,"duration_ms":2000}`,
		5: `{"type":"retry","time":"2025-03-04T10:00:03Z","agent":"writer","attempt":1,"wait_ms":1500,"reason":"429 Too Many Requests"}`,
		11: `{"type":"cell_finished","time":"2025-03-04T10:00:08Z","agent":"executor","index":2,"language":"python","code":"print('before')\n1/0","status":"error","execution_count":2,"duration_ms":20,` +
			`"outputs":[{"output_type":"stream","name":"stdout","text":"before\n"},{"output_type":"error","ename":"ZeroDivisionError","evalue":"division by zero","traceback":` + jsonOf(t, traceback) + `}],` +
			`"error":{"ename":"ZeroDivisionError","evalue":"division by zero","traceback":` + jsonOf(t, traceback) + `},"timed_out":false,"dropped_bytes":0}`,
		13: `{"type":"cell_finished","time":"2025-03-04T10:00:08Z","agent":"executor","index":3,"language":"bash","code":"ls -l","status":"skipped","execution_count":null,"duration_ms":0,"outputs":[],"timed_out":false,"dropped_bytes":0,"skipped":"bash is not run: the kernel runs Python only"}`,
		14: `{"type":"notice","time":"2025-03-04T10:00:08Z","text":"the kernel is slow","warning":true}`,
		15: `{"type":"message","time":"2025-03-04T10:00:08Z","turn":3,"agent":"executor","content":"cell 1 ok …","usage":{"prompt_tokens":0,"completion_tokens":0,"estimated":false},"final":false,"duration_ms":3000,"cells":[1,2,3]}`,
		1:  `{"type":"request_started","time":"2025-03-04T10:00:00Z","number":1,"request":"What sells best?"}`,
		18: `{"type":"request_finished","time":"2025-03-04T10:00:10Z","number":1,"reason":"terminated","turns":4,"usage":{"executor":{"prompt_tokens":0,"completion_tokens":0,"estimated":false},"planner":{"prompt_tokens":600000,"completion_tokens":150000,"estimated":false},"writer":{"prompt_tokens":400000,"completion_tokens":50000,"estimated":true}},"total":{"prompt_tokens":1000000,"completion_tokens":200000,"estimated":true},"cost":0.27,"duration_ms":10000}`,
		19: `{"type":"run_finished","time":"2025-03-04T10:00:10Z","reason":"terminated","turns":4,"usage":{"executor":{"prompt_tokens":0,"completion_tokens":0,"estimated":false},"planner":{"prompt_tokens":600000,"completion_tokens":150000,"estimated":false},"writer":{"prompt_tokens":400000,"completion_tokens":50000,"estimated":true}},"total":{"prompt_tokens":1000000,"completion_tokens":200000,"estimated":true},"cost":0.27,"duration_ms":10000}`,
	}
	for i, w := range exact {
		if lines[i] != w {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], w)
		}
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadEventsRoundTrip(t *testing.T) {
	r := record(t, -1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := ReadEvents(filepath.Join(r.Dir(), EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := events[0].Meta; got.Task != "What sells best?" || !reflect.DeepEqual(got.Data, testMeta().Data) || !got.Started.Equal(t0) || got.PriceIn != 0.15 {
		t.Errorf("run_started meta = %+v", got)
	}

	var wantCells []cell.Cell
	var wantMsgs []team.Message
	for _, s := range script(t) {
		switch e := s.e.(type) {
		case cell.Finished:
			wantCells = append(wantCells, e.Cell)
		case team.MessageDone:
			wantMsgs = append(wantMsgs, e.Message)
		}
	}
	var gotCells, gotMsgs []Event
	for _, e := range events {
		switch e.Type {
		case TypeCellFinished:
			gotCells = append(gotCells, e)
		case TypeMessage:
			gotMsgs = append(gotMsgs, e)
		}
	}
	if len(gotCells) != len(wantCells) {
		t.Fatalf("got %d cells, want %d", len(gotCells), len(wantCells))
	}
	for i, w := range wantCells {
		g := gotCells[i]
		if g.Index != w.Index || g.Language != w.Language || g.Code != w.Code || g.Status != w.Status() || g.Skipped != w.Skipped {
			t.Errorf("cell %d = %+v", w.Index, g)
		}
		if want := w.Outputs(); (len(g.Outputs) > 0 || len(want) > 0) && !reflect.DeepEqual(g.Outputs, want) {
			t.Errorf("cell %d outputs:\n got %#v\nwant %#v", w.Index, g.Outputs, w.Outputs())
		}
		if gc := g.Cell(); w.Result != nil && (!reflect.DeepEqual(gc.Result.Error, w.Result.Error) || gc.Result.ExecutionCount != w.Result.ExecutionCount || g.Duration != w.Result.Duration) {
			t.Errorf("cell %d: error %+v count %d duration %v", w.Index, gc.Result.Error, gc.Result.ExecutionCount, g.Duration)
		}
	}
	for i, w := range wantMsgs {
		g := gotMsgs[i]
		if g.Agent != w.Agent || g.Content != w.Content || g.Usage != w.Usage || g.Final != w.Final {
			t.Errorf("message %d = %+v, want %+v", i, g, w)
		}
	}
	last := events[len(events)-1]
	if last.Type != TypeRunFinished || last.Reason != "terminated" || last.Cost == nil || *last.Cost != 0.27 ||
		last.AgentUsage["writer"] != (team.Usage{PromptTokens: 400000, CompletionTokens: 50000, Estimated: true}) ||
		last.Total.Total() != 1200000 {
		t.Errorf("run_finished = %+v", last)
	}
}

func TestReadEventsCutShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), EventsFile)
	data := `{"type":"turn_started","time":"2025-03-04T10:00:00Z","turn":1,"agent":"planner"}` + "\n" + `{"type":"message","ti`
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	events, err := ReadEvents(path)
	if err != nil || len(events) != 1 || events[0].Agent != "planner" {
		t.Fatalf("ReadEvents = %+v, %v; want the whole first line only", events, err)
	}
	if err := os.WriteFile(path, []byte("{oops\n"+data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEvents(path); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("ReadEvents of a broken first line: err = %v", err)
	}
}

// TestReadEventsCut: the file is cut when its last byte is not a newline,
// whether or not the last line parses, and the cut line is named by its
// number.
func TestReadEventsCut(t *testing.T) {
	line := `{"type":"turn_started","time":"2025-03-04T10:00:00Z","turn":1,"agent":"planner"}`
	tests := []struct {
		name, data string
		events     int
		cut        int
	}{
		{"empty", "", 0, 0},
		{"whole", line + "\n", 1, 0},
		{"blank line at the end", line + "\n\n", 1, 0},
		{"torn last line", line + "\n" + `{"type":"message","ti`, 1, 2},
		{"whole last line without its newline", line + "\n" + line, 2, 2},
		{"after a blank line", line + "\n\n" + line, 2, 3},
		{"spaces after the last newline", line + "\n  ", 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), EventsFile)
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			events, cut, err := ReadEventsCut(path)
			if err != nil || len(events) != tt.events || cut != tt.cut {
				t.Errorf("ReadEventsCut = %d events, cut %v, %v; want %d, %v, nil", len(events), cut, err, tt.events, tt.cut)
			}
		})
	}
}

// notebook is the part of an nbformat notebook the tests look at.
type notebook struct {
	Cells []struct {
		ID             string            `json:"id"`
		CellType       string            `json:"cell_type"`
		Source         string            `json:"source"`
		ExecutionCount *int              `json:"execution_count"`
		Outputs        []json.RawMessage `json:"outputs"`
	} `json:"cells"`
	Metadata struct {
		Kernelspec struct{ Name string } `json:"kernelspec"`
	} `json:"metadata"`
	NBFormat      int `json:"nbformat"`
	NBFormatMinor int `json:"nbformat_minor"`
}

func readNotebook(t *testing.T, dir string) notebook {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, NotebookFile))
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatal(err)
	}
	return nb
}

func TestNotebook(t *testing.T) {
	r := record(t, -1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(r.Dir(), NotebookFile)
	validateNotebook(t, path)
	golden(t, path, "analysis.ipynb.golden")

	nb := readNotebook(t, r.Dir())
	if nb.NBFormat != 4 || nb.NBFormatMinor != 5 || nb.Metadata.Kernelspec.Name != "python3" {
		t.Errorf("format %d.%d kernel %q", nb.NBFormat, nb.NBFormatMinor, nb.Metadata.Kernelspec.Name)
	}
	var kinds []string
	for _, c := range nb.Cells {
		kinds = append(kinds, c.ID+":"+c.CellType)
	}
	wantKinds := []string{"task:markdown", "step-1:markdown", "cell-1:code", "cell-2:code", "cell-3:markdown", "summary:markdown"}
	if !slices.Equal(kinds, wantKinds) {
		t.Fatalf("cells = %q, want %q", kinds, wantKinds)
	}
	c := nb.Cells
	if !strings.HasPrefix(c[0].Source, "# Task\n\nWhat sells best?") {
		t.Errorf("task cell = %q", c[0].Source)
	}
	if c[1].Source != "## Step 1\n\n"+stepText {
		t.Errorf("step cell = %q", c[1].Source)
	}
	if c[2].Source != code1 || c[2].ExecutionCount == nil || *c[2].ExecutionCount != 1 || len(c[2].Outputs) != 3 {
		t.Errorf("cell 1 = %+v", c[2])
	}
	if c[3].Source != code2 || c[3].ExecutionCount == nil || *c[3].ExecutionCount != 2 || len(c[3].Outputs) != 2 {
		t.Errorf("cell 2 = %+v", c[3])
	}
	var types []string
	for _, o := range append(c[2].Outputs, c[3].Outputs...) {
		var v struct {
			OutputType string `json:"output_type"`
		}
		json.Unmarshal(o, &v)
		types = append(types, v.OutputType)
	}
	if want := []string{"stream", "display_data", "execute_result", "stream", "error"}; !slices.Equal(types, want) {
		t.Errorf("output types = %q, want %q", types, want)
	}
	if !strings.Contains(c[4].Source, bashSkip) || !strings.Contains(c[4].Source, "```bash\nls -l\n```") {
		t.Errorf("skipped cell = %q", c[4].Source)
	}
	if c[5].Source != "## Summary\n\nThe data holds 3 rows and 2 columns; sales peak in March." {
		t.Errorf("summary = %q", c[5].Source)
	}
}

// TestNotebookSwaps writes the notebook on file systems that can exchange
// two names, that can only link, and that can do neither: the same notebook
// comes out, and until the end its twin holds the same bytes.
func TestNotebookSwaps(t *testing.T) {
	cannot := func(string, string) error { return errors.New("not supported") }
	for _, tt := range []struct {
		name  string
		setup func(*nbFile)
	}{
		{"exchange", nil},
		{"link", func(n *nbFile) { n.exchange = cannot }},
		{"copy", func(n *nbFile) { n.exchange, n.link = cannot, cannot }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := recordOn(t, -1, tt.setup)
			live, err := os.ReadFile(filepath.Join(r.Dir(), NotebookFile))
			if err != nil {
				t.Fatal(err)
			}
			twin, err := os.ReadFile(filepath.Join(r.Dir(), twinFile))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(live, twin) {
				t.Errorf("the twin (%d bytes) differs from the notebook (%d bytes)", len(twin), len(live))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(r.Dir(), NotebookFile), "analysis.ipynb.golden")
			if _, err := os.Stat(filepath.Join(r.Dir(), twinFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the twin is left after Close: %v", err)
			}
		})
	}
}

// TestCrash stops feeding events part-way through, as if the process died,
// and checks that what is on disk is valid and complete so far.
func TestCrash(t *testing.T) {
	for _, n := range []int{0, 4, 9, 11, 13} {
		t.Run(fmt.Sprintf("%d-events", n), func(t *testing.T) {
			r := record(t, n)
			defer r.Close()
			validateNotebook(t, filepath.Join(r.Dir(), NotebookFile))
			if _, err := os.Stat(filepath.Join(r.Dir(), ReportFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("report.md exists before the run finished: %v", err)
			}
			events, err := ReadEvents(filepath.Join(r.Dir(), EventsFile))
			if err != nil {
				t.Fatal(err)
			}
			written := 1 // run_started
			for _, s := range script(t)[:n] {
				switch s.e.(type) {
				case team.TextDelta:
				default:
					written++
				}
			}
			if len(events) != written {
				t.Errorf("%d events on disk, want %d", len(events), written)
			}
		})
	}
	t.Run("mid-cell", func(t *testing.T) {
		r := record(t, 9) // cell 1 started, not finished
		nb := readNotebook(t, r.Dir())
		last := nb.Cells[len(nb.Cells)-1]
		if last.ID != "cell-1" || last.Source != code1 || last.ExecutionCount != nil || len(last.Outputs) != 0 {
			t.Errorf("running cell = %+v", last)
		}
	})
}

func TestCloseIncomplete(t *testing.T) {
	r := record(t, 12) // cells 1 and 2 done
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(r.Dir(), ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	rep := string(b)
	for _, want := range []string{
		"**Incomplete run:**",
		"*The planner wrote no summary",
		"![figure-1.png](figure-1.png)",
		"| 1 | Load sales.csv \\| print its shape and the first rows. | 1, 2 | error | 6s |",
		"| **Total** | | ~700,000 | ~150,000 | ~850,000 |",
		"Cost: $0.195 (at $0.15 per million prompt tokens and $0.60 per million completion tokens), estimated",
		"- Stopped: incomplete (no run_finished event) after 3 turns",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	r.Observe(team.Notice{Text: "late"}) // ignored, no panic
}

func TestReport(t *testing.T) {
	r := record(t, -1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(r.Dir(), ReportFile)
	golden(t, path, "report.md.golden")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep := string(b)
	if strings.Contains(rep, "| executor |") {
		t.Errorf("the usage table has a row for the executor, which used no tokens:\n%s", rep)
	}
	if strings.Contains(rep, "TERMINATION") || strings.Contains(rep, "Incomplete") {
		t.Errorf("report holds TERMINATION or says incomplete:\n%s", rep)
	}
	for _, want := range []string{
		"## Summary\n\nThe data holds 3 rows and 2 columns; sales peak in March.\n",
		"![figure-1.png](figure-1.png)",
		"| Step | Sub-task | Cells | Status | Duration |",
		"| 1 | Load sales.csv \\| print its shape and the first rows. | 1, 2, 3 | error | 8s |",
		"| planner | gpt-4o-mini | 600,000 | 150,000 | 750,000 |",
		"| writer | gpt-4o-mini | ~400,000 | ~50,000 | ~450,000 |",
		"| **Total** | | ~1,000,000 | ~200,000 | ~1,200,000 |",
		"Cost: $0.27 (at $0.15 per million prompt tokens and $0.60 per million completion tokens), estimated",
		"- Wall time: 10s",
		"- Stopped: terminated after 4 turns",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
}

func TestNoSecrets(t *testing.T) {
	r := record(t, -1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(r.Dir(), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if bytes.Contains(b, []byte("SENTINEL")) {
			t.Errorf("%s holds the secret", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{NotebookFile, EventsFile, ReportHTMLFile, ReportFile}; !slices.Equal(names, want) {
		t.Errorf("files = %q, want %q", names, want)
	}
}

func TestEventJSONTextDelta(t *testing.T) {
	b, err := encodeEvent(team.TextDelta{Agent: "writer", Text: "<b>hi</b>\n"}, t0, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil || bytes.ContainsRune(b, '\n') {
		t.Fatalf("EventJSON = %s, %v", b, err)
	}
	if v["type"] != "text_delta" || v["agent"] != "writer" || v["text"] != "<b>hi</b>\n" {
		t.Errorf("EventJSON = %s", b)
	}
}

func TestObserveKeepsWriteError(t *testing.T) {
	r := record(t, 2)
	r.f.Close() // make the next write fail
	r.Observe(team.Notice{Text: "lost"})
	if err := r.Close(); err == nil || !strings.Contains(err.Error(), EventsFile) {
		t.Errorf("Close = %v, want the write error", err)
	}
}

func TestPrice(t *testing.T) {
	tests := []struct {
		model   string
		in, out float64
		ok      bool
	}{
		{"gpt-4o-mini", 0.15, 0.60, true},
		{"openai/gpt-4o-mini-2024-07-18", 0.15, 0.60, true},
		{"gpt-4o", 2.50, 10.00, true},
		{"gpt-4.1-nano", 0.10, 0.40, true},
		{"deepseek-chat", 0.27, 1.10, true},
		{"gpt-4o-audio-preview", 0, 0, false},
		{"llama3", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			in, out, ok := Price(tt.model)
			if in != tt.in || out != tt.out || ok != tt.ok {
				t.Errorf("Price(%q) = %v, %v, %v", tt.model, in, out, ok)
			}
		})
	}
	if got := Cost(team.Usage{PromptTokens: 1000000, CompletionTokens: 200000}, 0.15, 0.60); got != 0.27 {
		t.Errorf("Cost = %v, want 0.27", got)
	}
}

func golden(t *testing.T, path, name string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gp := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(gp, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(gp)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update to accept):\n%s", path, gp, got)
	}
}

// TestUnfinishedCells covers cells that timed out, were interrupted or lost
// their kernel: the notebook stays valid and says what happened.
func TestUnfinishedCells(t *testing.T) {
	clk := &clock{t: t0}
	r, err := newRecorder(t.TempDir(), Meta{Task: "t"}, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	cells := []cell.Cell{
		{Index: 1, Language: "python", Code: "while True: pass", Result: &jupyter.Result{
			Outputs: []jupyter.Output{{Type: "stream", Name: "stderr", Text: "tick\n"}}, TimedOut: true, Duration: time.Minute}},
		{Index: 2, Language: "python", Code: "input()", Result: &jupyter.Result{Canceled: true}},
		{Index: 3, Language: "python", Code: "import os; os._exit(1)", Err: jupyter.ErrKernelDied, Restart: &cell.Restart{}},
		{Index: 4, Language: "python", Code: "print(1)", Skipped: "cell 1 failed first"},
	}
	for _, c := range cells {
		r.Observe(cell.Started{Agent: "executor", Index: c.Index, Language: c.Language, Code: c.Code})
		r.Observe(cell.Finished{Agent: "executor", Cell: c})
	}
	validateNotebook(t, filepath.Join(r.Dir(), NotebookFile))
	nb := readNotebook(t, r.Dir())
	var ids []string
	for _, c := range nb.Cells {
		ids = append(ids, c.ID)
	}
	want := []string{"task", "cell-1", "cell-1-note", "cell-2", "cell-2-note", "cell-3", "cell-3-note", "cell-4"}
	if !slices.Equal(ids, want) {
		t.Fatalf("cells = %q, want %q", ids, want)
	}
	for i, w := range []string{"timed out", "interrupted", "kernel died"} {
		if src := nb.Cells[2*i+2].Source; !strings.Contains(src, w) {
			t.Errorf("note %d = %q, want it to say %q", i+1, src, w)
		}
	}
	if !strings.Contains(nb.Cells[7].Source, "cell 1 failed first") {
		t.Errorf("skipped cell = %q", nb.Cells[7].Source)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := ReadEvents(filepath.Join(r.Dir(), EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, e := range events {
		if e.Type == TypeCellFinished {
			statuses = append(statuses, string(e.Status))
			if e.Index == 1 && !e.TimedOut {
				t.Errorf("cell 1: timed_out not recorded")
			}
			if e.Index == 3 && e.Failure != "kernel died; restarted; variables lost" {
				t.Errorf("cell 3: failure = %q", e.Failure)
			}
		}
	}
	if want := []string{"timeout", "interrupted", "failed", "skipped"}; !slices.Equal(statuses, want) {
		t.Errorf("statuses = %q, want %q", statuses, want)
	}
}

func TestMirrorIsTheFile(t *testing.T) {
	clk := &clock{t: t0}
	r, err := newRecorder(t.TempDir(), Meta{Task: "What sells best?", PriceIn: 1, PriceOut: 2}, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	var mirror bytes.Buffer
	r.Mirror(&mirror)
	for _, s := range script(t) {
		clk.t = t0.Add(s.at)
		r.Observe(s.e)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(r.Dir(), EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	if mirror.String() != string(file) {
		t.Errorf("--json stream:\n%s\nfile holds:\n%s", mirror.String(), file)
	}
	if !strings.Contains(string(file), `"cost":`) {
		t.Errorf("run_finished holds no cost: %s", file)
	}
}
