package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/localgw"
	"github.com/analyst-dev/analyst/internal/replay"
	"github.com/analyst-dev/analyst/internal/termsafe"
	"github.com/analyst-dev/analyst/jupyter"
)

// Exit codes. They are documented in the README; keep both in step.
const (
	exitOK          = 0
	exitFailed      = 1   // an error ended the command, or the code raised (exec)
	exitUsage       = 2   // bad flags, arguments or input files
	exitLimit       = 3   // run: a limit stopped it (turns, time, tokens)
	exitKernelDied  = 4   // the kernel died and could not be brought back
	exitTimeout     = 124 // exec: the cell timed out (kernel interrupted, state kept)
	exitInterrupted = 130 // Ctrl-C
)

// exitError carries an exit code, and optionally a message, out of a command.
type exitError struct {
	code int
	err  error // nil: the command already said what happened
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a bad-input error: exit 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode maps the error a command returned to the process's exit code, and
// prints it as one line on w.
func exitCode(ctx context.Context, w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	code := exitFailed
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
		if ee.err == nil {
			if se, ok := interruptedBy(ctx); ok && se.sig == syscall.SIGPIPE {
				// The command said so on the output that was closed.
				fmt.Fprintf(w, "analyst: %s\n", se.Error())
			}
			return code
		}
	case isCobraUsage(err), isBadKernelSpec(err):
		code = exitUsage
	}
	if se, ok := interruptedBy(ctx); ok && (errors.Is(err, context.Canceled) || code == exitFailed) {
		fmt.Fprintf(w, "analyst: %s\n", se.Error())
		return se.code()
	}
	fmt.Fprintf(w, "analyst: %s\n", explain(err))
	return code
}

// isBadKernelSpec says err is a start of a kernel spec the gateway does not
// have: a usage error.
func isBadKernelSpec(err error) bool {
	var ne *jupyter.NoKernelSpecError
	return errors.As(err, &ne)
}

// explain is err's message on one line, followed by what the user can do
// about it when its type says.
func explain(err error) string {
	msg := oneLine(err.Error())
	if h := hint(err); h != "" {
		msg += ": " + h
	}
	return msg
}

// hint says what the user can do about err, from its type: which flag or
// variable to check. The libraries say what failed; the command knows how
// it was configured.
func hint(err error) string {
	var le *llm.Error
	var qe *jupyter.QueueTimeoutError
	var me *replay.MissingDataError
	var ue *jupyter.UserNotAllowedError
	switch {
	case isBadKernelSpec(err):
		return "choose one with --kernel"
	case errors.As(err, &ue):
		return "" // the message says to set KERNEL_USERNAME
	case errors.Is(err, jupyter.ErrUnauthorized):
		return "check --gateway-token or " + envGatewayToken
	case errors.As(err, &qe):
		return "raise --queue-timeout or the gateway's kernel limit"
	case errors.Is(err, localgw.ErrNotInstalled):
		return "install Debian's python3-jupyter-server python3-ipykernel (or pip install jupyter_kernel_gateway ipykernel), or point analyst at a gateway with --gateway-url"
	case errors.As(err, &me):
		return "pass it with --data"
	case !errors.As(err, &le):
		return ""
	}
	switch le.Kind {
	case llm.Auth:
		if le.Status == 403 {
			return "check " + envAPIKey + " and its permissions"
		}
		return "check " + envAPIKey
	case llm.ModelNotFound:
		return "check --model or " + envModel
	case llm.NoModel:
		return "set --model or " + envModel
	case llm.NotFound:
		return "check " + envBaseURL + " (it usually ends in /v1)"
	case llm.Network:
		return "check " + envBaseURL
	case llm.Quota:
		return "check the account's plan and billing"
	case llm.ToolsUnsupported:
		return "use --mode team, whose agents need no tool calling"
	case llm.ContextLength:
		return "lower --context-budget (or " + envContextBudget + ") below the model's context window, e.g. 5000 for an 8k-token model"
	}
	return ""
}

// isCobraUsage recognises the errors cobra itself returns for bad command
// lines.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument", "flag needs an argument", "accepts ", "requires at least", "required flag", "bad flag syntax"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// oneLine folds a message onto one line, with any control character in it
// (an HTTP error body quoted in the message may hold escape sequences)
// shown, not obeyed, by the terminal.
func oneLine(s string) string {
	return termsafe.Line(strings.Join(strings.Fields(s), " "))
}

// flagError words the errors of flag parsing for people: what a flag
// expects instead of the Go parser's message, and the flag a misspelt one
// probably meant. It is always a usage error.
func flagError(cmd *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	var unknown *pflag.NotExistError
	switch {
	case errors.As(err, &bad):
		err = fmt.Errorf("--%s %s: %s", bad.GetFlag().Name, strconv.Quote(bad.GetValue()), expected(bad.GetFlag(), bad.GetValue()))
	case errors.As(err, &unknown):
		if s := suggestFlag(cmd.Flags(), unknown.GetSpecifiedName(), unknown.GetSpecifiedShortnames() != ""); s != "" {
			err = fmt.Errorf("%w (did you mean --%s?)", err, s)
		}
	}
	return &exitError{code: exitUsage, err: err}
}

// expected says what kind of value the flag takes.
func expected(f *pflag.Flag, value string) string {
	switch f.Value.Type() {
	case "duration":
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			return fmt.Sprintf("a duration needs a unit, such as %ss or %sm", value, value)
		}
		return "want a duration such as 90s or 5m"
	case "int", "int64", "int32", "uint", "uint64":
		return "want a whole number"
	case "float", "float32", "float64":
		return "want a number such as 0.5"
	case "bool":
		return "want true or false"
	}
	return "not a valid value"
}

// suggestFlag returns the visible flag of fs a mistyped name most likely
// meant, or "". A mistyped shorthand (-x) is matched against the long flags
// that begin with its letter and have no shorthand of their own.
func suggestFlag(fs *pflag.FlagSet, name string, shorthand bool) string {
	best, bestDist, ties := "", 3, 0 // at most two edits away
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if shorthand {
			if f.Shorthand == "" && strings.HasPrefix(f.Name, name) {
				best, ties = f.Name, ties+1
			}
			return
		}
		switch d := editDistance(name, f.Name); {
		case d < bestDist:
			best, bestDist, ties = f.Name, d, 1
		case d == bestDist:
			ties++
		}
	})
	if ties != 1 {
		return ""
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (optimal string
// alignment) of a and b: insertions, deletions, substitutions and
// transpositions of adjacent letters.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
