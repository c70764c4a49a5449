package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/analyst-dev/analyst/agents/executor"
	"github.com/analyst-dev/analyst/analysis"
	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/replay"
	"github.com/analyst-dev/analyst/internal/termsafe"
	"github.com/analyst-dev/analyst/team"
)

// converse asks the session the first request, then, with -i, each request
// the person types, until they end it (EOF, an empty line, Ctrl-D, or
// Ctrl-C at the prompt). Ctrl-C during a request ends that request only:
// the cell is interrupted and the kernel kept. The outcome is the last
// request's.
func converse(ctx context.Context, io *console.IO, opts *runOptions, sess *analysis.Session) analysis.Outcome {
	var next func(context.Context) (string, bool)
	if opts.interactive {
		next = newPrompt(io).next
	}
	first := opts.task
	if strings.TrimSpace(first) == "" {
		var ok bool
		if first, ok = next(ctx); !ok {
			return analysis.Outcome{Reason: noRequest, Dir: sess.Dir()}
		}
	}
	out := ask(ctx, sess, first, opts.interactive)
	for next != nil && ctx.Err() == nil {
		req, ok := next(ctx)
		if !ok {
			break
		}
		out = ask(ctx, sess, req, true)
	}
	return out
}

// noRequest is how an interactive run ends that was asked nothing.
const noRequest team.StopReason = "no request"

// ask has the session work on one request. With trap, a Ctrl-C ends the
// request only.
func ask(ctx context.Context, sess *analysis.Session, request string, trap bool) analysis.Outcome {
	if !trap {
		return sess.Ask(ctx, request)
	}
	reqCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	untrap := trapInterrupt(ctx, func() { cancel(signalError{os.Interrupt}) })
	defer untrap()
	return sess.Ask(reqCtx, request)
}

// readWriter joins a terminal's input and the stream its prompt is
// written to.
type readWriter struct {
	io.Reader
	io.Writer
}

// prompt reads the person's requests: on a terminal with line editing and
// history, otherwise one request per line of standard input.
type prompt struct {
	io    *console.IO
	lines chan string // standard input's lines, when it is no terminal
	term  *term.Terminal
	fd    int
}

func newPrompt(io *console.IO) *prompt {
	p := &prompt{io: io}
	if f, ok := io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) && io.ErrTTY() {
		p.fd = int(f.Fd())
		p.term = term.NewTerminal(readWriter{f, io.Err}, "› ")
		return p
	}
	p.lines = make(chan string)
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(io.In)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
}

// next returns the next request; false when the person ended the run.
func (p *prompt) next(ctx context.Context) (string, bool) {
	if p.term != nil {
		return p.readTerminal()
	}
	fmt.Fprintln(p.io.Err, "next request (an empty line ends the run):")
	select {
	case line, ok := <-p.lines:
		if !ok || strings.TrimSpace(line) == "" {
			return "", false
		}
		return line, true
	case <-ctx.Done():
		return "", false
	}
}

// readTerminal reads a line in raw mode: Ctrl-C or Ctrl-D ends the run.
func (p *prompt) readTerminal() (string, bool) {
	fmt.Fprintln(p.io.Err, "\nnext request (Ctrl-D or an empty line ends the run):")
	state, err := term.MakeRaw(p.fd)
	if err != nil {
		return "", false
	}
	line, err := p.term.ReadLine()
	term.Restore(p.fd, state)
	if err != nil {
		fmt.Fprintln(p.io.Err) // Ctrl-D or Ctrl-C leaves the cursor on the prompt's line
		return "", false
	}
	if strings.TrimSpace(line) == "" {
		return "", false
	}
	return line, true
}

// continueRecording reads and checks the run in dir that --continue goes on
// from, before anything in it changes: its events, and its data files found
// on this machine with the content they had.
func continueRecording(dir string, overrides []string) (events []record.Event, data []string, err error) {
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return nil, nil, usageErrorf("--continue %s: no such directory", dir)
	case !fi.IsDir():
		return nil, nil, usageErrorf("--continue %s is not a directory: pass the run's folder", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, record.EventsFile)); err != nil {
		return nil, nil, usageErrorf("--continue %s: no %s there: pass the folder of an analyst run", dir, record.EventsFile)
	}
	s, err := replay.Load(dir)
	if err != nil {
		return nil, nil, usageErrorf("--continue %s: %s: the recording is damaged; start a new run", dir, oneLine(err.Error()))
	}
	data, warnings, err := s.DataFiles(overrides)
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("--continue %s: %w", dir, err)}
	}
	if len(warnings) > 0 {
		return nil, nil, usageErrorf("--continue %s: %s; pass the recorded file with --data", dir, warnings[0])
	}
	events, err = record.ReadEvents(filepath.Join(dir, record.EventsFile))
	if err != nil {
		return nil, nil, usageErrorf("--continue %s: %s", dir, oneLine(err.Error()))
	}
	return events, data, nil
}

// approver asks a person about each cell: on the terminal, or from the
// answers in an --approve-from file.
type approver struct {
	io      *console.IO
	mu      sync.Mutex
	answers []string // scripted answers left; nil on a terminal
	script  string   // the answers file, for messages
	in      *bufio.Reader
}

// newApprover returns the approver of --approve / --approve-from.
func newApprover(io *console.IO, from string) (*approver, error) {
	if from == "" {
		f, ok := io.In.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil, usageErrorf("--approve needs a terminal to ask on; give scripted answers with --approve-from FILE")
		}
		return &approver{io: io, in: bufio.NewReader(f)}, nil
	}
	b, err := os.ReadFile(from)
	if err != nil {
		return nil, usageErrorf("--approve-from %s: cannot read it", from)
	}
	a := &approver{io: io, script: from, answers: []string{}}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			a.answers = append(a.answers, l)
		}
	}
	for _, l := range a.answers {
		if _, _, err := a.parse(l); err != nil {
			return nil, usageErrorf("--approve-from %s: %v", from, err)
		}
	}
	return a, nil
}

// parse splits an answer into its verb and argument, checking both.
func (a *approver) parse(answer string) (verb, arg string, err error) {
	verb, arg, _ = strings.Cut(answer, " ")
	arg = strings.TrimSpace(arg)
	switch verb {
	case "run", "skip":
	case "edit", "feedback":
		if arg == "" {
			return "", "", fmt.Errorf("%q needs %s", answer, map[string]string{"edit": "a file holding the new code", "feedback": "the text for the writer"}[verb])
		}
	case "note":
	default:
		return "", "", fmt.Errorf("%q: answers are run, skip, edit FILE, feedback TEXT or note [TEXT]", answer)
	}
	return verb, arg, nil
}

// Approve shows the cell and returns the person's decision.
func (a *approver) Approve(ctx context.Context, c cell.Cell) (executor.Decision, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	// The person approves what runs: a control character in the code is
	// shown, never lets one part of it hide another.
	fmt.Fprintf(a.io.Err, "\n── cell %d, about to run ──\n%s\n", c.Index, termsafe.String(strings.TrimRight(c.Code, "\n")))
	for {
		verb, arg, err := a.answer(ctx, "run, edit, skip or feedback? [r/e/s/f] ")
		if err != nil {
			return executor.Decision{}, err
		}
		switch verb {
		case "run", "r", "":
			return executor.Decision{Action: executor.Run}, nil
		case "skip", "s":
			return executor.Decision{Action: executor.Skip}, nil
		case "edit", "e":
			code, err := a.edit(arg, c.Code)
			if err != nil {
				return executor.Decision{}, err
			}
			return executor.Decision{Action: executor.Edit, Code: code}, nil
		case "feedback", "f":
			if arg == "" && a.answers == nil {
				fmt.Fprint(a.io.Err, "what should the writer change? ")
				arg, err = a.readLine()
				if err != nil {
					return executor.Decision{}, err
				}
			}
			return executor.Decision{Action: executor.Feedback, Text: arg}, nil
		case "note":
			return executor.Decision{}, fmt.Errorf("--approve-from %s: a note where cell %d needed run, skip, edit or feedback", a.script, c.Index)
		}
		fmt.Fprintln(a.io.Err, "answer r, e, s or f")
	}
}

// Note asks for a note for the planner. A scripted answer that is not a
// note is left for the next cell.
func (a *approver) Note(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.answers != nil {
		if len(a.answers) == 0 || !strings.HasPrefix(a.answers[0], "note") {
			return "", nil
		}
		_, arg, _ := a.parse(a.answers[0])
		a.answers = a.answers[1:]
		return arg, nil
	}
	fmt.Fprint(a.io.Err, "a note for the planner (enter for none): ")
	return a.readLine()
}

// answer returns the next scripted answer, or reads one from the terminal.
func (a *approver) answer(ctx context.Context, question string) (verb, arg string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	if a.answers != nil {
		if len(a.answers) == 0 {
			return "", "", fmt.Errorf("--approve-from %s has no answer left", a.script)
		}
		line := a.answers[0]
		a.answers = a.answers[1:]
		fmt.Fprintf(a.io.Err, "%s%s\n", question, line)
		return a.parse(line)
	}
	fmt.Fprint(a.io.Err, question)
	line, err := a.readLine()
	if err != nil {
		return "", "", err
	}
	verb, arg, _ = strings.Cut(strings.TrimSpace(line), " ")
	return verb, arg, nil
}

func (a *approver) readLine() (string, error) {
	line, err := a.in.ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no answer: standard input ended")
	}
	return strings.TrimSpace(line), nil
}

// edit returns the edited code: from the scripted answer's file (relative
// to the answers file), or from $EDITOR on a copy of the code.
func (a *approver) edit(file, code string) (string, error) {
	if a.answers != nil {
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(a.script), file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--approve-from %s: edit %s: cannot read it", a.script, file)
		}
		return string(b), nil
	}
	f, err := os.CreateTemp("", "analyst-cell-*.py")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	f.WriteString(code)
	f.Close()
	editor := firstNonEmpty(os.Getenv("VISUAL"), os.Getenv("EDITOR"), "vi")
	cmd := exec.Command("sh", "-c", editor+` "$1"`, "editor", f.Name())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("edit with %s: %w", editor, err)
	}
	b, err := os.ReadFile(f.Name())
	return string(b), err
}
