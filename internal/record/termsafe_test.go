package record

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/team"
)

// TestReportShowsControlCharacters checks that escape sequences from the LLM
// in report.md and report.html are written visibly: `cat report.md` must not let them act on
// the terminal.
func TestReportShowsControlCharacters(t *testing.T) {
	meta := testMeta()
	meta.Task = "Sum sales\x1b]0;pwned\x07"
	r, err := newRecorder(filepath.Join(t.TempDir(), "run"), meta, (&clock{t: t0}).now)
	if err != nil {
		t.Fatal(err)
	}
	r.Observe(team.RunStarted{Task: meta.Task, Agents: []string{"planner"}, Time: t0})
	r.Observe(team.TurnStarted{Turn: 1, Agent: "planner"})
	r.Observe(team.MessageDone{Turn: 1, Message: team.Message{Agent: "planner", Final: true,
		Content: "Sub-task 1\x1b[2J: done.\u009b2J\x1b]52;c;cm0gLXJmIH4=\x07\n\nTERMINATION",
		Summary: "Sub-task 1\x1b[2J: done.\u009b2J\x1b]52;c;cm0gLXJmIH4=\x07"}})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(r.Dir(), ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	rep := string(b)
	for name, text := range map[string]string{ReportFile: rep, ReportHTMLFile: readFile(t, filepath.Join(r.Dir(), ReportHTMLFile))} {
		if i := strings.IndexAny(text, "\x1b\x07\u009b"); i >= 0 {
			t.Errorf("%s holds a raw control character at %d: %q", name, i, text[max(0, i-20):min(len(text), i+20)])
		}
	}
	for _, want := range []string{
		"## Task\n\nSum sales\\x1b]0;pwned\\x07\n",
		"## Summary\n\nSub-task 1\\x1b[2J: done.\\u009b2J\\x1b]52;c;cm0gLXJmIH4=\\x07\n",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
}
