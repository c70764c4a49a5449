package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Failures of answers that arrived but are not whole.
var (
	errClosedEarly = errors.New("stream closed mid-answer")
	errNoChoices   = errors.New("the answer holds no choices")
)

// failure is a classified failed attempt.
type failure struct {
	err    *Error
	retry  bool
	reason string        // one line, for RetryEvent
	after  time.Duration // the server's Retry-After, if any
}

// call runs one attempt under ctx.
type call func(ctx context.Context) (Response, error)

// retry runs attempts of req until one succeeds, a failure is not worth
// retrying, the retry budget is spent or ctx is done. stall is the stall
// timeout of the attempts, 0 for none.
func (c *Client) retry(ctx context.Context, req Request, stall time.Duration, do call) (Response, error) {
	if req.Model == "" {
		return Response{}, &Error{Kind: NoModel, BaseURL: c.base}
	}
	for n := 1; ; n++ {
		resp, f := c.attempt(ctx, req, stall, do)
		if f == nil {
			resp.Retries = n - 1
			return resp, nil
		}
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("LLM request: %w", ctx.Err())
		}
		if !f.retry {
			return Response{}, f.err
		}
		if n > c.cfg.MaxRetries {
			if n > 1 {
				f.err.Attempts = n
			}
			return Response{}, f.err
		}
		ev := RetryEvent{Attempt: n, Wait: c.backoff(n, f.after), Reason: f.reason}
		if c.cfg.OnRetry != nil {
			c.cfg.OnRetry(ev)
		}
		if req.OnRetry != nil {
			req.OnRetry(ev)
		}
		if err := c.cfg.Sleep(ctx, ev.Wait); err != nil {
			return Response{}, fmt.Errorf("LLM request: %w", err)
		}
	}
}

// attempt runs do once with its own deadline and stall watchdog, and
// classifies its failure.
func (c *Client) attempt(ctx context.Context, req Request, stall time.Duration, do call) (Response, *failure) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	actx, cancelTimeout := context.WithTimeoutCause(actx, c.cfg.RequestTimeout, errAttemptTimeout)
	defer cancelTimeout()
	a := &attempt{stall: stall, cancel: cancel}
	defer a.stop()
	resp, err := do(context.WithValue(actx, attemptKey{}, a))
	if err == nil {
		return resp, nil
	}
	return Response{}, c.classify(req, a, context.Cause(actx), err)
}

// backoff returns the wait before retry n (from 1): the server's
// Retry-After when given, up to maxRetryAfter; otherwise a random time
// between MinBackoff and min(MaxBackoff, MinBackoff·2ⁿ⁻¹).
func (c *Client) backoff(n int, after time.Duration) time.Duration {
	if after > 0 {
		return min(after, maxRetryAfter)
	}
	ceiling := c.cfg.MaxBackoff
	if n-1 < 32 {
		ceiling = min(ceiling, c.cfg.MinBackoff<<(n-1))
	}
	if ceiling <= c.cfg.MinBackoff {
		return c.cfg.MinBackoff
	}
	return c.cfg.MinBackoff + rand.N(ceiling-c.cfg.MinBackoff+1)
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, maxRetryAfter.Seconds()) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// classify turns the error of an attempt into a failure. cause is the cause
// of the attempt's context, if it was cancelled.
func (c *Client) classify(req Request, a *attempt, cause, err error) *failure {
	e := &Error{BaseURL: c.base, Model: req.Model, err: err}
	f := &failure{err: e, retry: true}
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.Is(cause, errStalled) && a.status == 0:
		e.Kind, e.Message = Timeout, fmt.Sprintf("no answer for %s", c.cfg.StallTimeout)
		f.reason = "server silent: " + e.Message
	case errors.Is(cause, errStalled):
		e.Kind, e.Message = Timeout, fmt.Sprintf("no data for %s", c.cfg.StallTimeout)
		f.reason = "stream stalled: " + e.Message
	case errors.Is(cause, errAttemptTimeout):
		e.Kind, e.Message = Timeout, fmt.Sprintf("no complete answer after %s", c.cfg.RequestTimeout)
		f.reason = "timed out after " + c.cfg.RequestTimeout.String()
	case errors.As(err, &reqErr):
		// Checked before *APIError: go-openai wraps an empty one in the
		// error for a body it could not decode.
		msg, code := bodyMessage(reqErr.Body, http.StatusText(reqErr.HTTPStatusCode))
		c.httpFailure(f, req, a, reqErr.HTTPStatusCode, c.redact(msg), code)
	case errors.As(err, &apiErr) && apiErr.HTTPStatusCode == 0:
		// An error event inside a stream that had begun well.
		e.Kind, e.Message = Stream, "the server reported an error mid-answer"
		if m := c.redact(oneLine(apiErr.Message)); m != "" {
			e.Message += ": " + m
		}
		f.reason = e.Message
	case errors.As(err, &apiErr):
		c.httpFailure(f, req, a, apiErr.HTTPStatusCode, c.redact(oneLine(apiErr.Message)), codeString(apiErr.Code, apiErr.Type))
	case !a.sent:
		// go-openai refused to build the request (e.g. parameters a
		// reasoning model does not take): no retry helps.
		e.Kind, e.Message, f.retry = BadRequest, c.redact(oneLine(err.Error())), false
	case errors.Is(err, errNoChoices):
		e.Kind, e.Message = Stream, errNoChoices.Error()
		f.reason = e.Message
	case isJSONError(err):
		e.Kind, e.Message = Stream, "malformed JSON from the server"
		f.reason = e.Message
	case a.status == http.StatusOK:
		// The answer had begun: whatever cut it, it broke off.
		e.Kind, e.Message = Stream, errClosedEarly.Error()
		if !errors.Is(err, errClosedEarly) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			e.Message += ": " + c.redact(oneLine(netCause(err)))
		}
		f.reason = e.Message
	default:
		e.Kind, e.Message = Network, c.redact(oneLine(netCause(err)))
		f.reason = "cannot reach the server: " + e.Message
	}
	return f
}

// httpFailure fills f for an error status.
func (c *Client) httpFailure(f *failure, req Request, a *attempt, status int, msg, code string) {
	e := f.err
	// go-openai's error repeats the body, which may quote the API key.
	e.err = nil
	e.Status, e.Message = status, msg
	f.reason = fmt.Sprintf("%d %s", status, strings.ToLower(http.StatusText(status)))
	tools := len(req.Tools) > 0 && toolsUnsupported.MatchString(msg)
	tooLong := code == "context_length_exceeded" || code == "exceed_context_size_error" || contextTooLong.MatchString(msg)
	switch {
	case tooLong && status != http.StatusUnauthorized && status != http.StatusForbidden && status != http.StatusTooManyRequests:
		// Also a 500: Ollama's runner fails that way.
		e.Kind, f.retry = ContextLength, false
	case tools && status <= http.StatusNotImplemented:
		e.Kind, f.retry = ToolsUnsupported, false
	case status == http.StatusUnauthorized:
		e.Kind, e.Message, f.retry = Auth, "", false
	case status == http.StatusForbidden:
		e.Kind, f.retry = Auth, false
	case status == http.StatusNotFound && (code == "model_not_found" || code == "DeploymentNotFound" || modelMentioned.MatchString(msg)):
		e.Kind, f.retry = ModelNotFound, false
	case status == http.StatusNotFound:
		e.Kind, f.retry = NotFound, false
	case status == http.StatusTooManyRequests && code == "insufficient_quota":
		e.Kind, f.retry = Quota, false
	case status == http.StatusTooManyRequests:
		e.Kind, f.reason = RateLimited, "429 rate limited"
		if a.header != nil {
			f.after = retryAfter(a.header.Get("Retry-After"), c.now())
		}
	case status == http.StatusRequestTimeout || status == http.StatusConflict:
		e.Kind = Server
	case status >= 500:
		e.Kind = Server
		if a.header != nil && status == http.StatusServiceUnavailable {
			f.after = retryAfter(a.header.Get("Retry-After"), c.now())
		}
	default:
		e.Kind, f.retry = BadRequest, false
	}
	if msg != "" && f.retry {
		f.reason += ": " + msg
		if e.Kind == RateLimited {
			f.reason = "429 rate limited: " + msg
		}
	}
}

// redact removes the API key from s.
func (c *Client) redact(s string) string {
	if k := c.cfg.APIKey; len(k) >= 4 {
		s = strings.ReplaceAll(s, k, "[API key]")
	}
	return s
}

// isJSONError reports whether err is a JSON decoding error.
func isJSONError(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syn) || errors.As(err, &typ)
}

// netCause describes a connection failure briefly, without the URL that
// *url.Error repeats.
func netCause(err error) string {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dns):
		return "cannot resolve host " + dns.Name
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
