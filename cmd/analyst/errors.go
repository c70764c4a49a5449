package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/localgw"
	"github.com/analyst-dev/analyst/internal/replay"
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
			return code
		}
	case isCobraUsage(err):
		code = exitUsage
	}
	if se, ok := interruptedBy(ctx); ok && (errors.Is(err, context.Canceled) || code == exitFailed) {
		fmt.Fprintf(w, "analyst: %s\n", se.Error())
		return se.code()
	}
	fmt.Fprintf(w, "analyst: %s\n", explain(err))
	return code
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

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
