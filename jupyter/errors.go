package jupyter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// Sentinel errors. Callers test for them with [errors.Is]; the errors the
// package returns wrap them with the operation that failed.
var (
	// ErrUnauthorized reports that the server refused the credentials (HTTP
	// 401, or a 403 that is not a resource limit). Its message never holds
	// the token. A [*UserNotAllowedError] matches it too.
	ErrUnauthorized = errors.New("not authorized")
	// ErrKernelNotFound reports that the server does not know the kernel
	// (HTTP 404 on a kernel's URL).
	ErrKernelNotFound = errors.New("kernel not found")
	// ErrResourceLimit reports that the gateway refused to start another
	// kernel because a limit such as max_kernels was reached: HTTP 403, or
	// the HTTP 500 Enterprise Gateway answers racing starts with at its
	// limit.
	ErrResourceLimit = errors.New("kernel limit reached on the gateway: delete unused kernels or raise its limit")
	// ErrListingDisabled reports that the gateway does not allow listing
	// kernels.
	ErrListingDisabled = errors.New("the gateway does not allow listing kernels: enable --KernelGatewayApp.list_kernels=True (Kernel Gateway) or EG_LIST_KERNELS=True (Enterprise Gateway)")
	// ErrKernelDied reports that the kernel process died or was restarted
	// while a request was in flight.
	ErrKernelDied = errors.New("kernel died")
	// ErrNoAnswer reports that the kernel did not answer a new connection
	// within the client's LaunchTimeout, re-dials included. The kernel may
	// still exist: a kernel whose process runs but never serves its ports
	// (such as an ipykernel that lost one of its ports to another process
	// at start) stays so until it is deleted.
	ErrNoAnswer = errors.New("the kernel did not answer")
)

// UserNotAllowedError reports that Enterprise Gateway refuses to start
// kernels for the user the start request named in KERNEL_USERNAME (its
// EG_UNAUTHORIZED_USERS, or a user missing from EG_AUTHORIZED_USERS). It is
// the kind of such an [*HTTPError] and matches [ErrUnauthorized] under
// [errors.Is]. Trying again does not help.
type UserNotAllowedError struct {
	User string // the refused user, as the gateway names it
}

// Error returns a one-line description with the fix.
func (e *UserNotAllowedError) Error() string {
	return fmt.Sprintf("the gateway refuses to start kernels for user %q: set KERNEL_USERNAME to an allowed user", e.User)
}

// Is reports whether target is [ErrUnauthorized].
func (e *UserNotAllowedError) Is(target error) bool { return target == ErrUnauthorized }

// userRefused matches Enterprise Gateway's two authorization failures:
// "User 'bob' is not authorized to start kernel 'K'" and "User 'bob' is not
// in the set of users authorized to start kernel 'K'".
var userRefused = regexp.MustCompile(`User '([^']*)' is not (?:in the set of users )?authorized to start kernel`)

// HTTPError is a non-2xx answer from the server's REST API or WebSocket
// handshake. Reason and Message come from the JSON error body the Jupyter
// servers send; a body that is not such JSON is never shown.
type HTTPError struct {
	Op      string // the operation, such as "start kernel \"python3\""
	Status  int    // the HTTP status code
	Reason  string // the body's "reason", if any
	Message string // the body's "message", one line, if any

	kind error // the sentinel this status maps to, or nil
}

// Error returns a one-line description naming the operation and status.
func (e *HTTPError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	var una *UserNotAllowedError
	if errors.As(e.kind, &una) {
		// The fix first; the server's own words, cut to their first
		// sentence, after.
		text := e.Reason + " " + e.Message
		if loc := userRefused.FindStringIndex(text); loc != nil {
			text = text[loc[0]:]
		}
		detail, _, _ := strings.Cut(text, ". ")
		fmt.Fprintf(&b, "%s (HTTP %d: %s)", una.Error(), e.Status, detail)
		return b.String()
	}
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	detail := e.Message
	if e.Reason != "" && e.Reason != http.StatusText(e.Status) && !strings.Contains(detail, e.Reason) {
		detail = strings.TrimSpace(e.Reason + " " + detail)
	}
	if detail != "" && detail != http.StatusText(e.Status) {
		b.WriteString(": " + detail)
	}
	if e.kind != nil {
		b.WriteString(" (" + e.kind.Error() + ")")
	}
	return b.String()
}

// Unwrap returns the sentinel the status maps to (such as [ErrUnauthorized]
// or [ErrKernelNotFound]), or nil.
func (e *HTTPError) Unwrap() error { return e.kind }

// UnreachableError reports that the server could not be reached at all:
// connection refused, an unknown host, a TLS failure or a timeout.
type UnreachableError struct {
	URL string // the server's display URL, without any token
	Err error  // the underlying network error
}

// Error returns a one-line description naming the URL and the cause.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach Jupyter server at %s: %s", e.URL, shortNetError(e.Err))
}

// Unwrap returns the underlying network error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// shortNetError returns the innermost useful message of a network error, so
// that "Get \"http://...\": dial tcp ...: connect: connection refused" reads
// "connection refused".
func shortNetError(err error) string {
	if err == nil {
		return "unknown error"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	return oneLine(msg)
}

// errorBody is the JSON error body of the Jupyter servers. Kernel Gateway
// and Enterprise Gateway add the Python traceback of an unhandled exception;
// it is read to classify the error, never shown.
type errorBody struct {
	Reason    *string `json:"reason"`
	Message   *string `json:"message"`
	Traceback *string `json:"traceback"`
}

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// newHTTPError builds an HTTPError from a response, reading (a bounded part
// of) its body. secret is removed from any server text.
func newHTTPError(op string, resp *http.Response, secret string) *HTTPError {
	e := &HTTPError{Op: op, Status: resp.StatusCode}
	var traceback string
	if resp.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		var eb errorBody
		if json.Unmarshal(body, &eb) == nil {
			if eb.Reason != nil {
				e.Reason = clean(*eb.Reason, secret)
			}
			if eb.Message != nil {
				e.Message = clean(*eb.Message, secret)
			}
			if eb.Traceback != nil {
				traceback = *eb.Traceback
			}
		}
	}
	e.kind = classify(e, traceback)
	if e.kind == ErrResourceLimit && e.Status == http.StatusInternalServerError {
		// "Unknown server error" says nothing: name the exception, when
		// the body has a traceback to name it.
		if l := clean(lastLine(traceback), secret); l != "" {
			e.Message = l
		}
	}
	return e
}

// egLimitCrash matches the exception Enterprise Gateway (3.2) answers racing
// kernel starts with at its kernel limit, as HTTP 500: a start refused by
// the limit leaves a kernel manager behind that the answer then fails to
// describe.
var egLimitCrash = regexp.MustCompile(`'RemoteKernelManager' object has no attribute 'last_activity'`)

// classify maps a status (and for 403 and 500 the body) to a sentinel.
// traceback is the body's Python traceback, if any.
func classify(e *HTTPError, traceback string) error {
	switch e.Status {
	case http.StatusInternalServerError:
		// Only a start: the same exception on listing kernels is a
		// gateway bug, not a limit.
		if strings.HasPrefix(e.Op, "start kernel") && egLimitCrash.MatchString(e.Reason+" "+e.Message+" "+traceback) {
			return ErrResourceLimit
		}
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		if m := userRefused.FindStringSubmatch(e.Reason + " " + e.Message); m != nil {
			return &UserNotAllowedError{User: m[1]}
		}
		// Kernel Gateway says "Resource Limit"; Enterprise Gateway 3 says
		// "A max kernels [per user] limit has been set to N and ...".
		text := strings.ToLower(e.Reason + " " + e.Message)
		if strings.Contains(text, "resource limit") || strings.Contains(text, "max kernels") {
			return ErrResourceLimit
		}
		return ErrUnauthorized
	}
	return nil
}

// clean makes server text safe to show: one line, bounded, without secret.
func clean(s, secret string) string {
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "***")
	}
	s = oneLine(s)
	const max = 300
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// lastLine returns the last line of s that is not blank.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// oneLine collapses runs of white space, including newlines, to one space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
