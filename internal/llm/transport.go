package llm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// Causes of a cancelled attempt.
var (
	errStalled        = errors.New("stream stalled")
	errAttemptTimeout = errors.New("attempt timed out")
)

// attemptKey is the context key of the *attempt a request belongs to.
type attemptKey struct{}

// attempt is what the transport learns about one HTTP attempt and the
// watchdog that cancels it when its stream stalls. go-openai hides the
// response headers of failed requests, so the transport keeps them here.
type attempt struct {
	stall  time.Duration // 0: no watchdog (not a stream)
	cancel context.CancelCauseFunc

	// Set by doer.Do, in the goroutine that runs the attempt.
	sent   bool
	status int
	header http.Header
	timer  *time.Timer
}

// stop stops the watchdog, if any.
func (a *attempt) stop() {
	if a.timer != nil {
		a.timer.Stop()
	}
}

// doer is the HTTP client go-openai uses: it records each response's status
// and headers in the request's attempt, and wraps a stream's body in the
// attempt's stall watchdog.
type doer struct {
	client   *http.Client
	azureKey string
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	if d.azureKey != "" {
		req.Header.Set("api-key", d.azureKey)
	}
	a, _ := req.Context().Value(attemptKey{}).(*attempt)
	if a != nil {
		a.sent = true
		if a.stall > 0 {
			// The watchdog runs from the moment the request goes out: a
			// server that never answers is given up as soon as one that
			// stops mid-stream.
			a.timer = time.AfterFunc(a.stall, func() { a.cancel(errStalled) })
		}
	}
	resp, err := d.client.Do(req)
	if err != nil || a == nil {
		return resp, err
	}
	a.status, a.header = resp.StatusCode, resp.Header
	if a.timer != nil {
		a.timer.Reset(a.stall)
		resp.Body = &watchedBody{ReadCloser: resp.Body, a: a}
	}
	return resp, nil
}

// watchedBody pushes back its attempt's stall deadline whenever bytes
// arrive.
type watchedBody struct {
	io.ReadCloser
	a *attempt
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	if n > 0 {
		w.a.timer.Reset(w.a.stall)
	}
	return n, err
}
