package jupyter

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Execute runs code as one cell and returns what it produced.
//
// A Python exception is reported in Result.Error with a nil error. When the
// cell timeout expires, the kernel is interrupted and the partial result is
// returned with TimedOut set and a nil error; the kernel's variables
// survive. When ctx is cancelled the same happens, with Canceled set, and
// the partial result is returned together with the context's error. If the
// kernel dies, the partial result is returned with an error wrapping
// [ErrKernelDied]; [Session.Restart] makes the Session usable again.
func (s *Session) Execute(ctx context.Context, code string) (*Result, error) {
	return s.execute(ctx, code, false)
}

// ExecuteSilent runs code as a silent cell, as Execute does: the kernel
// sends no execute_result, keeps no history of it and does not advance its
// execution count. What the code prints still comes back.
func (s *Session) ExecuteSilent(ctx context.Context, code string) (*Result, error) {
	return s.execute(ctx, code, true)
}

// Aborted requests. A kernel aborts the requests that reach it just after a
// cell failed (ipykernel's stop_on_error_timeout, 0.1 s): such a cell never
// ran, so it is sent again, a little later, up to abortAttempts times.
const (
	abortAttempts  = 4
	abortRetryWait = 150 * time.Millisecond
)

// execute runs one cell. A silent cell produces no execute_result, is not
// stored in the history and does not advance the execution count.
func (s *Session) execute(ctx context.Context, code string, silent bool) (*Result, error) {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("execute: %w", context.Cause(ctx))
	}
	defer func() { <-s.turn }()

	for attempt := 1; ; attempt++ {
		res, err := s.send(ctx, code, silent)
		if err != nil || res.Status != "aborted" || attempt == abortAttempts {
			return res, err
		}
		t := time.NewTimer(abortRetryWait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("execute: %w", context.Cause(ctx))
		}
	}
}

// send sends one execute_request and collects its result; the caller holds
// the session's turn.
func (s *Session) send(ctx context.Context, code string, silent bool) (*Result, error) {
	start := time.Now()
	conn, err := s.connection(ctx)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	req := newMessage(s.sid(), "shell", "execute_request", executeRequest{
		Code:            code,
		Silent:          silent,
		StoreHistory:    !silent,
		UserExpressions: map[string]any{},
		AllowStdin:      false,
		StopOnError:     true,
	})
	c := newCall(req.Header.MsgID, executeCall, s.opts.MaxOutputBytes)
	c.redact = s.opts.Redact
	if !silent {
		c.onOutput = s.opts.OnOutput
	}
	s.register(c)
	defer s.unregister(c)
	if err := s.write(conn, req); err != nil {
		return nil, fmt.Errorf("execute: send request: %w", err)
	}

	timeout := time.NewTimer(s.opts.CellTimeout)
	defer timeout.Stop()
	alive := time.NewTicker(alivePollInterval)
	defer alive.Stop()
	var timedOut, canceled bool
wait:
	for {
		select {
		case <-c.done:
			break wait
		case <-timeout.C:
			timedOut = true
			break wait
		case <-ctx.Done():
			canceled = true
			break wait
		case <-alive.C:
			if err := s.checkAlive(ctx); err != nil {
				c.fail(err)
			}
		}
	}
	if timedOut || canceled {
		s.interruptAndDrain(ctx, c)
	} else if grace := min(time.Since(start)/20, maxLateOutputGrace); grace >= time.Millisecond {
		// Output from threads the cell started can trail its end.
		t := time.NewTimer(grace)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}

	res, err := c.finish()
	res.Duration = time.Since(start)
	res.TimedOut = timedOut
	res.Canceled = canceled
	switch {
	case err != nil:
		return res, fmt.Errorf("execute: %w", err)
	case canceled:
		return res, fmt.Errorf("execute: %w", context.Cause(ctx))
	}
	return res, nil
}

// interruptAndDrain interrupts the kernel and waits, within interruptWait
// and regardless of ctx's cancellation, for the cell to end.
func (s *Session) interruptAndDrain(ctx context.Context, c *call) {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), interruptWait)
	defer cancel()
	if err := s.c.InterruptKernel(ictx, s.kernelID); err != nil {
		if errors.Is(err, ErrKernelNotFound) {
			c.fail(fmt.Errorf("%w: %w", ErrKernelDied, err))
		}
		return
	}
	select {
	case <-c.done:
	case <-ictx.Done():
	}
}

// checkAlive asks the server whether the kernel still exists and is not
// dead. It reports only a definite death; other failures are ignored.
func (s *Session) checkAlive(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, alivePollInterval)
	defer cancel()
	k, err := s.c.GetKernel(ctx, s.kernelID)
	switch {
	case errors.Is(err, ErrKernelNotFound):
		return fmt.Errorf("%w: %w", ErrKernelDied, err)
	case err == nil && k.ExecutionState == "dead":
		return fmt.Errorf("%w: the server reports the kernel dead", ErrKernelDied)
	}
	return nil
}
