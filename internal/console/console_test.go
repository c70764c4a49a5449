package console

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedNow is the clock of every test console.
func fixedNow() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }

// encodeImage returns a w×h image encoded by enc, in base64 as Jupyter sends it.
func encodeImage(t *testing.T, w, h int, enc func(*bytes.Buffer, image.Image) error) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := enc(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func pngBase64(t *testing.T, w, h int) string {
	return encodeImage(t, w, h, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) })
}

// script is a whole run: planning, a retried streamed answer, cells that
// print, plot, fail and are skipped, notices and the summary.
func script(t *testing.T) []team.Event {
	t.Helper()
	code1 := "import pandas as pd\ndf = pd.read_csv('superstore.csv')\nprint(len(df))\ndf.groupby('Region')['Sales'].sum()\n"
	writerText := "Load the data and sum by region:\n\n```python\n" + code1 + "```\n"
	cell1 := cell.Cell{
		Index: 1, Language: "python", Code: code1,
		Result: &jupyter.Result{
			Status: "ok", ExecutionCount: 3, Duration: 1234 * time.Millisecond,
			Outputs: []jupyter.Output{
				{Type: "stream", Name: "stdout", Text: "99"},
				{Type: "stream", Name: "stdout", Text: "94\n"},
				{Type: "stream", Name: "stderr", Text: "loading 50%\rloading 100%\n"},
				{Type: "display_data", Data: map[string]any{
					"image/png":  pngBase64(t, 64, 48),
					"text/plain": "<Figure size 640x480 with 1 Axes>",
				}},
				{Type: "execute_result", ExecutionCount: 3, Data: map[string]any{
					"text/plain": "Region\nCentral    501239.8908\nEast       678781.2400\n",
					"text/html":  "<table>…</table>",
				}},
			},
		},
	}
	cell1.Figures = cell.ResolveFigures(cell1.Result, []string{"figure-1.png"})
	cell2 := cell.Cell{
		Index: 2, Language: "python", Code: "1/0",
		Result: &jupyter.Result{
			Status: "error", ExecutionCount: 4, Duration: 20 * time.Millisecond, DroppedBytes: 2048,
			Outputs: []jupyter.Output{
				{Type: "stream", Name: "stdout", Text: "before\n"},
				{Type: "error", Text: "ZeroDivisionError: division by zero"},
			},
			Error: &jupyter.ExecError{
				Name: "ZeroDivisionError", Value: "division by zero",
				Traceback: []string{
					"\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
					"\x1b[0;31mZeroDivisionError\x1b[0m                         Traceback (most recent call last)",
					"Cell \x1b[0;32mIn[4], line 1\x1b[0m\n\x1b[0;32m----> 1\x1b[0m \x1b[38;5;241m1\x1b[39m\x1b[38;5;241m/\x1b[39m\x1b[38;5;241m0\x1b[39m",
					"\x1b[0;31mZeroDivisionError\x1b[0m: division by zero",
				},
			},
		},
	}
	cell3 := cell.Cell{Index: 3, Language: "python", Code: "print('again')", Skipped: "an earlier cell failed"}
	cell4 := cell.Cell{Index: 4, Language: "python", Code: "while True: pass",
		Result: &jupyter.Result{Status: "aborted", TimedOut: true, ExecutionCount: 5, Duration: 90 * time.Second}}
	cell5 := cell.Cell{Index: 5, Language: "python", Code: "x = 1", Err: errors.New("kernel died")}

	return []team.Event{
		team.RunStarted{Task: "Which region has the highest sales?", Agents: []string{"planner", "writer", "executor"}, Time: fixedNow()},
		team.TurnStarted{Turn: 1, Agent: "planner"},
		team.TextDelta{Agent: "planner", Text: "Step 1: load the CSV "},
		team.TextDelta{Agent: "planner", Text: "and sum Sales by Region."},
		team.MessageDone{Turn: 1, Message: team.Message{Agent: "planner", Content: "Step 1", Usage: team.Usage{PromptTokens: 1200, CompletionTokens: 40}, Duration: 2500 * time.Millisecond}},
		team.TurnStarted{Turn: 2, Agent: "writer"},
		team.Retry{Agent: "writer", Attempt: 2, Wait: 2 * time.Second, Reason: "429 rate limited"},
		team.TextDelta{Agent: "writer", Text: "Load the data"},
		team.TextRestart{Agent: "writer"},
		team.TextDelta{Agent: "writer", Text: writerText[:20]},
		team.TextDelta{Agent: "writer", Text: writerText[20:]},
		team.MessageDone{Turn: 2, Message: team.Message{Agent: "writer", Content: writerText, Usage: team.Usage{PromptTokens: 1500, CompletionTokens: 90, Estimated: true}, Duration: 4 * time.Second}},
		team.TurnStarted{Turn: 3, Agent: "executor"},
		team.Notice{Text: "kernel python3 started"},
		cell.Started{Agent: "executor", Index: 1, Language: "python", Code: code1},
		cell.Finished{Agent: "executor", Cell: cell1},
		cell.Started{Agent: "executor", Index: 2, Language: "python", Code: "1/0"},
		cell.Finished{Agent: "executor", Cell: cell2},
		cell.Finished{Agent: "executor", Cell: cell3},
		cell.Started{Agent: "executor", Index: 4, Language: "python", Code: "while True: pass"},
		cell.Finished{Agent: "executor", Cell: cell4},
		cell.Started{Agent: "executor", Index: 5, Language: "python", Code: "x = 1"},
		cell.Finished{Agent: "executor", Cell: cell5},
		team.MessageDone{Turn: 3, Message: team.Message{Agent: "executor", Content: "[cell 1] ok ...", Cells: []int{1, 2, 3}, Duration: 1300 * time.Millisecond}},
		team.Notice{Text: "the kernel restarted: variables are lost", Warning: true},
		team.TurnStarted{Turn: 4, Agent: "executor"},
		team.MessageDone{Turn: 4, Message: team.Message{Agent: "executor", Content: "No code blocks found in the last message.", Next: "planner"}},
		team.TurnStarted{Turn: 5, Agent: "planner"},
		team.TextDelta{Agent: "planner", Text: "West has the highest sales.\nTERMINATION\n"},
		team.MessageDone{Turn: 5, Message: team.Message{Agent: "planner", Final: true, Usage: team.Usage{PromptTokens: 2000, CompletionTokens: 30}}},
		team.RunFinished{Reason: team.StopTerminated, Turns: 5, Duration: 192 * time.Second, Usage: map[string]team.Usage{
			"planner":  {PromptTokens: 3200, CompletionTokens: 70},
			"writer":   {PromptTokens: 1500, CompletionTokens: 90, Estimated: true},
			"executor": {},
		}},
	}
}

func render(c *Console, events []team.Event) {
	for _, e := range events {
		c.Observe(e)
	}
	c.Close()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept it)\ngot:\n%s", file, got)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"transcript.golden", Options{}},
		{"verbose.golden", Options{Verbose: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, errOut := Test()
			tt.opts.Now = fixedNow
			render(New(s, tt.opts), script(t))
			checkGolden(t, tt.name, out.Bytes())
			if errOut.Len() != 0 {
				t.Errorf("stderr = %q, want nothing", errOut)
			}
		})
	}
}

func TestNoEscapeCodesWithoutTTY(t *testing.T) {
	s, out, errOut := Test()
	render(New(s, Options{Now: fixedNow}), script(t))
	for name, b := range map[string]*bytes.Buffer{"stdout": out, "stderr": errOut} {
		if i := bytes.IndexByte(b.Bytes(), 0x1b); i >= 0 {
			t.Errorf("%s holds an ESC byte at %d: %q", name, i, b.Bytes()[max(0, i-20):min(b.Len(), i+20)])
		}
	}
	if out.Len() == 0 {
		t.Fatal("nothing rendered")
	}
}

func TestForcedColor(t *testing.T) {
	tests := []struct {
		name    string
		writer  func(s *IO) Options
		colored bool
	}{
		{"stdout", func(*IO) Options { return Options{} }, true},
		{"stderr for --json", func(s *IO) Options { return Options{Writer: s.Err} }, true},
		{"other writer", func(*IO) Options { return Options{Writer: &bytes.Buffer{}} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, errOut := Test()
			s.SetColorProfile(ANSI256)
			if !s.ColorOut() || !s.ColorErr() {
				t.Fatal("SetColorProfile(ANSI256) did not turn colour on")
			}
			opts := tt.writer(s)
			opts.Now = fixedNow
			render(New(s, opts), script(t))
			var got []byte
			switch {
			case opts.Writer == nil:
				got = out.Bytes()
			case opts.Writer == s.Err:
				got = errOut.Bytes()
			default:
				got = opts.Writer.(*bytes.Buffer).Bytes()
			}
			if len(got) == 0 {
				t.Fatal("transcript not written to the chosen writer")
			}
			if has := bytes.IndexByte(got, 0x1b) >= 0; has != tt.colored {
				t.Errorf("transcript has escape codes = %v, want %v", has, tt.colored)
			}
		})
	}
}

func TestColorDetection(t *testing.T) {
	trueColor := func() termenv.Profile { return termenv.TrueColor }
	tests := []struct {
		name    string
		tty     bool
		noColor string
		term    string
		want    ColorProfile
	}{
		{"terminal", true, "", "xterm-256color", TrueColor},
		{"pipe", false, "", "xterm-256color", NoColor},
		{"NO_COLOR", true, "1", "xterm-256color", NoColor},
		{"dumb terminal", true, "", "dumb", NoColor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tt.noColor)
			t.Setenv("TERM", tt.term)
			if got := detectProfile(tt.tty, trueColor); got != tt.want {
				t.Errorf("detectProfile = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSystemHonoursNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	t.Setenv("CLICOLOR_FORCE", "1")
	s := System()
	if s.ColorOut() || s.ColorErr() {
		t.Errorf("ColorOut, ColorErr = %v, %v with NO_COLOR set", s.ColorOut(), s.ColorErr())
	}
	st := s.OutStyles()
	if got := st.Error.Render("boom"); got != "boom" {
		t.Errorf("Error style renders %q with NO_COLOR set", got)
	}
}

func TestLongOutputIsCapped(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 500; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	s, out, _ := Test()
	c := New(s, Options{Now: fixedNow})
	c.Observe(cell.Finished{Agent: "executor", Cell: cell.Cell{Index: 1, Result: &jupyter.Result{
		Status:  "ok",
		Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: b.String()}},
	}}})
	got := out.String()
	for _, want := range []string{"│ line 1\n", "│ line 100\n", "│ … 300 lines omitted …\n", "│ line 401\n", "│ line 500\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, absent := range []string{"│ line 101\n", "│ line 400\n"} {
		if strings.Contains(got, absent) {
			t.Errorf("output holds %q, which should be omitted", absent)
		}
	}
	if n := strings.Count(got, "\n"); n != 1+defaultMaxLines+1+1 {
		t.Errorf("box has %d lines, want %d", n, defaultMaxLines+3)
	}
}

func TestImageLine(t *testing.T) {
	svg := `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>`
	jpg := encodeImage(t, 320, 200, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) })
	tests := []struct {
		name    string
		data    map[string]any
		figures []string
		want    string
	}{
		{"png", map[string]any{"image/png": pngBase64(t, 640, 480), "text/plain": "<Figure>"}, []string{"figure-3.png"}, "[image/png 640x480 saved as figure-3.png]"},
		{"png with line breaks", map[string]any{"image/png": wrap(pngBase64(t, 17, 9), 76)}, []string{"figure-1.png"}, "[image/png 17x9 saved as figure-1.png]"},
		{"jpeg", map[string]any{"image/jpeg": jpg}, []string{"figure-2.jpg"}, "[image/jpeg 320x200 saved as figure-2.jpg]"},
		{"svg", map[string]any{"image/svg+xml": svg}, []string{"figure-4.svg"}, "[image/svg+xml saved as figure-4.svg]"},
		{"svg chosen by the figure's name", map[string]any{"image/png": pngBase64(t, 8, 8), "image/svg+xml": svg}, []string{"figure-5.svg"}, "[image/svg+xml saved as figure-5.svg]"},
		{"not saved", map[string]any{"image/png": pngBase64(t, 2, 3)}, nil, "[image/png 2x3]"},
		{"broken png", map[string]any{"image/png": "bm90IGFuIGltYWdl"}, []string{"figure-6.png"}, "[image/png saved as figure-6.png]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, _ := Test()
			c := New(s, Options{Now: fixedNow})
			c.Observe(cell.Finished{Agent: "executor", Cell: withFigures(cell.Cell{Index: 1, Result: &jupyter.Result{
				Status:  "ok",
				Outputs: []jupyter.Output{{Type: "display_data", Data: tt.data}},
			}}, tt.figures)})
			if got := out.String(); !strings.Contains(got, "│ "+tt.want+"\n") {
				t.Errorf("output:\n%s\nwant a line %q", got, tt.want)
			}
		})
	}
}

// withFigures gives c the figures named, as a recording names them.
func withFigures(c cell.Cell, names []string) cell.Cell {
	c.Figures = cell.ResolveFigures(c.Result, names)
	return c
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestMessageEndsLine(t *testing.T) {
	tests := []struct {
		name   string
		deltas []string
		want   string
	}{
		{"without final newline", []string{"Hello", " world"}, "Hello world\n"},
		{"with final newline", []string{"Hello\n"}, "Hello\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, _ := Test()
			c := New(s, Options{Now: fixedNow})
			for _, d := range tt.deltas {
				c.Observe(team.TextDelta{Agent: "planner", Text: d})
			}
			c.Observe(team.MessageDone{Turn: 1, Message: team.Message{Agent: "planner"}})
			c.Observe(team.Notice{Text: "next"})
			if got, want := out.String(), tt.want+"next\n"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestRunFinished(t *testing.T) {
	s, out, errOut := Test()
	c := New(s, Options{Now: fixedNow})
	c.Observe(team.RunFinished{
		Reason: team.StopError, Turns: 1, Duration: 420 * time.Millisecond,
		Usage: map[string]team.Usage{"planner": {PromptTokens: 10, CompletionTokens: 5, Estimated: true}},
		Err:   errors.New("planner: connection refused"),
	})
	want := "finished: error after 1 turn in 420ms\n" +
		"tokens (prompt+completion): planner ~10+5 · total ~10+5 = ~15\n"
	if got := out.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	// The error goes to stderr: a transcript redirected to a file keeps
	// the results, the terminal shows the error.
	if got, want := errOut.String(), "error: planner: connection refused\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

// TestSpinner checks that the spinner draws on a terminal's stderr while an
// agent thinks and while a cell runs, and is cleared before anything else is
// written.
func TestSpinner(t *testing.T) {
	s, out, errOut := Test()
	s.errTTY = true // a terminal, keeping the test colour profile
	c := New(s, Options{Now: fixedNow})
	c.cellDelay = 0
	defer c.Close()

	c.Observe(team.TurnStarted{Turn: 1, Agent: "planner"})
	c.Observe(team.TextDelta{Agent: "planner", Text: "Plan.\n"})
	const clear = "\r                     \r" // as wide as "⠋ planner is thinking"
	if got, want := errOut.String(), "\r⠋ planner is thinking"+clear; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	errOut.Reset()

	c.Observe(cell.Started{Agent: "executor", Index: 2, Language: "python", Code: "x = 1"})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c.spin != nil {
		t.Error("Close left the spinner running")
	}
	if got, want := errOut.String(), "\r⠋ running cell 2\r                \r"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	// After Close, events still render but start no spinner.
	errOut.Reset()
	c.Observe(team.TurnStarted{Turn: 2, Agent: "writer"})
	if errOut.Len() != 0 {
		t.Errorf("spinner started after Close: %q", errOut)
	}
	if bytes.IndexByte(out.Bytes(), 0x1b) >= 0 || bytes.IndexByte(errOut.Bytes(), 0x1b) >= 0 {
		t.Error("escape codes written without colour")
	}
}

func TestNoSpinnerWithoutTTY(t *testing.T) {
	s, _, errOut := Test()
	c := New(s, Options{Now: fixedNow})
	c.cellDelay = 0
	c.Observe(team.TurnStarted{Turn: 1, Agent: "planner"})
	c.Observe(cell.Started{Agent: "executor", Index: 1, Code: "x"})
	if c.spin != nil || errOut.Len() != 0 {
		t.Errorf("spinner ran on a non-terminal: %q", errOut)
	}
	c.Close()
}

// countingWriter counts the writes made to it.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestOneWritePerEvent: an event's rendering, a cell of many lines, goes
// out in one write, and nothing is held back after the event.
func TestOneWritePerEvent(t *testing.T) {
	s, _, _ := Test()
	w := &countingWriter{}
	c := New(s, Options{Writer: w, Now: fixedNow})
	c.Observe(cell.Finished{Agent: "executor", Cell: cell.Cell{Index: 1, Result: &jupyter.Result{
		Status:  "ok",
		Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: "a\nb\nc\nd\n"}},
	}}})
	if got := strings.Count(w.String(), "\n"); w.writes != 1 || got != 6 {
		t.Errorf("%d writes of %d lines (%q), want 1 write of 6 lines", w.writes, got, w.String())
	}
	if len(c.pending) != 0 {
		t.Errorf("%q left pending after the event", c.pending)
	}
}

// TestTranscriptOnStderrKeepsOrder: with the transcript on the terminal's
// stderr, where the spinner and the run's error go too, the text an event
// writes comes before the spinner drawn after it, and the run's error after
// the transcript's last lines.
func TestTranscriptOnStderrKeepsOrder(t *testing.T) {
	s, _, errOut := Test()
	s.errTTY = true
	c := New(s, Options{Writer: s.Err, Now: fixedNow})
	c.cellDelay, c.spinInterval = 0, time.Hour
	defer c.Close()
	c.Observe(team.TurnStarted{Turn: 1, Agent: "planner"})
	if got, want := errOut.String(), "── planner ── turn 1\n\r⠋ planner is thinking"; got != want {
		t.Errorf("stderr = %q, want %q: the header, then the spinner", got, want)
	}
	errOut.Reset()
	c.Observe(team.RunFinished{Reason: team.StopError, Turns: 1, Duration: 420 * time.Millisecond,
		Err: errors.New("planner: connection refused")})
	want := clear(21) + "\nfinished: error after 1 turn in 420ms\n" + "error: planner: connection refused\n"
	if got := errOut.String(); got != want {
		t.Errorf("stderr = %q, want %q: the transcript, then the error", got, want)
	}
}
