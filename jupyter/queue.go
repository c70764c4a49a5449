package jupyter

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

const (
	// queueFirstWait is the wait after the first "Resource Limit" refusal;
	// each further refusal doubles it, up to queueMaxWait.
	queueFirstWait = time.Second
	// queueMaxWait bounds one wait, so that a slot that comes free is taken
	// within half a minute even late in a long queue.
	queueMaxWait = 30 * time.Second
)

// Queue says how [Client.StartKernel] waits when the gateway refuses a start
// because it is at its kernel limit (HTTP 403 "Resource Limit", Kernel
// Gateway's max_kernels or Enterprise Gateway's EG_MAX_KERNELS and
// EG_MAX_KERNELS_PER_USER): it tries again with exponential backoff and
// jitter until Timeout has passed, so that more starts than the gateway has
// slots for queue instead of failing. The zero Queue fails at once.
type Queue struct {
	// Timeout is how long to keep trying after the first refusal; zero
	// (or less) fails at once.
	Timeout time.Duration
	// OnWait, when set, is called once, at the first refusal, with a line
	// saying that the start is waiting for a free slot.
	OnWait func(msg string)
	// Now, when set, replaces time.Now for the queue's deadline (tests).
	Now func() time.Time
	// Wait, when set, replaces the wait between attempts, which by default
	// selects on ctx and a timer. Tests use it with Now to run without
	// sleeping.
	Wait func(ctx context.Context, d time.Duration) error
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

func (q *Queue) wait(ctx context.Context, d time.Duration) error {
	if q.Wait != nil {
		return q.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// backoff returns the wait before attempt n+1 (n ≥ 1 refusals so far):
// queueFirstWait doubled n-1 times, capped at queueMaxWait, of which the
// second half is random ("equal jitter") so that many clients refused
// together do not all come back together.
func backoff(n int) time.Duration {
	d := queueMaxWait
	if n <= 5 { // 1 s << 5 = 32 s is past the cap already
		d = min(queueFirstWait<<(n-1), queueMaxWait)
	}
	half := d / 2
	return half + rand.N(half+1)
}

// startQueued calls try until it succeeds, fails with something other than
// ErrResourceLimit, or q.Timeout has passed since the first refusal.
func startQueued(ctx context.Context, op string, q Queue, try func() (Kernel, error)) (Kernel, error) {
	var deadline time.Time
	for n := 1; ; n++ {
		k, err := try()
		if err == nil || !errors.Is(err, ErrResourceLimit) || q.Timeout <= 0 {
			return k, err
		}
		now := q.now()
		if n == 1 {
			deadline = now.Add(q.Timeout)
			if q.OnWait != nil {
				q.OnWait(fmt.Sprintf("gateway at its kernel limit; waiting for a free slot (up to %s)", shortDuration(q.Timeout)))
			}
		}
		left := deadline.Sub(now)
		if left <= 0 {
			return Kernel{}, &QueueTimeoutError{Op: op, Waited: q.Timeout, Attempts: n, Last: err}
		}
		if werr := q.wait(ctx, min(backoff(n), left)); werr != nil {
			return Kernel{}, fmt.Errorf("%s: waiting for a free kernel slot: %w", op, werr)
		}
	}
}

// QueueTimeoutError reports that the gateway stayed at its kernel limit for
// the whole of [Queue.Timeout]. It wraps the last refusal, so errors.Is
// finds [ErrResourceLimit].
type QueueTimeoutError struct {
	Op       string        // the operation, such as "start kernel \"python3\""
	Waited   time.Duration // the queue timeout
	Attempts int           // start requests sent
	Last     error         // the last refusal, an *HTTPError
}

// Error returns a one-line description.
func (e *QueueTimeoutError) Error() string {
	last := e.Last.Error()
	var he *HTTPError
	if errors.As(e.Last, &he) && he.Op != "" {
		last = strings.TrimPrefix(last, he.Op+": ")
	}
	return fmt.Sprintf("%s: the gateway stayed at its kernel limit for %s (%d attempts): %s",
		e.Op, shortDuration(e.Waited), e.Attempts, last)
}

// Unwrap returns the last refusal.
func (e *QueueTimeoutError) Unwrap() error { return e.Last }

// shortDuration formats d without trailing zero units: 5m, 1h30m, 90s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
