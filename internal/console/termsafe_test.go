package console

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// hostile holds what a terminal acts on: OSC 52 (clipboard), OSC 0 (title),
// clear screen, reset, a charset switch, save cursor, a private CSI, C1 CSI
// and OSC, NUL, BEL, backspace and a bare carriage return.
const hostile = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;pwned\x1b\\\x1b[2J\x1bc\x1b(0\x1b7\x1b[>4;2m\u009b2J\u009d0;t\u009c\x00\x07\x08\rX"

// hostileShown is how hostile must appear on the terminal.
const hostileShown = `\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;pwned\x1b\\x1b[2J` + strippedShown

// strippedShown is how hostile appears in a cell's output, where the kernel's
// CSI and OSC sequences are removed (jupyter.StripANSI) before the rest is
// shown.
const strippedShown = `\x1bc\x1b(0\x1b7\x1b[>4;2m\u009b2J\u009d0;t\u009c\x00\x07\x08\rX`

// hostileEvents carries hostile in every piece of untrusted text the console
// shows: streamed and unstreamed LLM text, code, cell output of every kind,
// an error, a retry's reason and a notice.
func hostileEvents() []team.Event {
	c := cell.Cell{
		Index: 1, Language: "python", Code: "print(x)" + hostile,
		Result: &jupyter.Result{
			Status: "error", ExecutionCount: 1, Duration: time.Second,
			Outputs: []jupyter.Output{
				{Type: "stream", Name: "stdout", Text: "out " + hostile + "\n"},
				{Type: "execute_result", Data: map[string]any{"text/plain": "result " + hostile}},
			},
			Error: &jupyter.ExecError{Name: "ValueError", Value: "value " + hostile,
				Traceback: []string{"\x1b[0;31mValueError\x1b[0m: value " + hostile}},
		},
	}
	return []team.Event{
		team.RunStarted{Task: "task " + hostile},
		team.TurnStarted{Turn: 1, Agent: "planner"},
		team.Retry{Agent: "planner", Attempt: 2, Wait: time.Second, Reason: "500 " + hostile},
		team.TextDelta{Agent: "planner", Text: "delta " + hostile[:7]},
		team.TextDelta{Agent: "planner", Text: hostile[7:] + "\n"},
		team.MessageDone{Turn: 1, Message: team.Message{Agent: "planner"}},
		team.TurnStarted{Turn: 2, Agent: "writer"},
		team.MessageDone{Turn: 2, Message: team.Message{Agent: "writer", Content: "content " + hostile}},
		team.TurnStarted{Turn: 3, Agent: "executor"},
		cell.Started{Agent: "writer", Index: 1, Language: "python", Code: c.Code},
		cell.Finished{Agent: "executor", Cell: c},
		cell.Finished{Agent: "executor", Cell: cell.Cell{Index: 2, Err: errors.New("kernel " + hostile)}},
		team.Notice{Text: "notice " + hostile, Warning: true},
		team.RunFinished{Reason: team.StopError, Turns: 3, Err: errors.New("failed " + hostile)},
	}
}

// sgr matches the colour codes the console itself writes.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestHostileTextIsShownNotObeyed checks that control characters in text
// from the LLM, the kernel and the gateway reach the terminal as visible
// escapes, while the console's own colours survive.
func TestHostileTextIsShownNotObeyed(t *testing.T) {
	for _, color := range []bool{false, true} {
		name := "plain"
		if color {
			name = "colour"
		}
		t.Run(name, func(t *testing.T) {
			s, out, errOut := Test()
			if color {
				s.SetColorProfile(ANSI256)
			}
			render(New(s, Options{Now: fixedNow, Verbose: true}), hostileEvents())
			got := out.String() + errOut.String() // the final error line goes to stderr
			if color && !sgr.MatchString(got) {
				t.Fatal("no colour codes in a coloured transcript")
			}
			plain := sgr.ReplaceAllString(got, "")
			if i := strings.IndexAny(plain, "\x1b\x07\x00\x08\r\u009b\u009d\u009c"); i >= 0 {
				t.Fatalf("transcript holds a raw control character at %d: %q", i, plain[max(0, i-30):min(len(plain), i+30)])
			}
			for _, want := range []string{
				"task: task " + hostileShown,
				"500 " + strings.Replace(hostileShown, `\r`, " ", 1), // white space folded
				"delta " + hostileShown,
				"content " + hostileShown,
				"    print(x)" + hostileShown,
				"│ X", // the carriage return redraws the line, as in a terminal
				"│ result " + strippedShown,
				"│ ValueError: value " + strippedShown,
				"│ kernel " + hostileShown,
				"notice " + hostileShown,
				"error: failed " + hostileShown,
			} {
				if !strings.Contains(plain, want+"\n") {
					t.Errorf("transcript lacks the line %q\ngot:\n%s", want, plain)
				}
			}
		})
	}
}
