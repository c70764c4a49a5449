package jupyter

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// reclaimPoll is how often Reclaim looks for an abandoned start's kernel
// among the gateway's kernels while no answer has named it.
const reclaimPoll = 500 * time.Millisecond

// reclaimDeleteWait bounds the deletion of the kernel Reclaim found.
const reclaimDeleteWait = 5 * time.Second

// ErrNotReclaimed reports that no kernel of an abandoned start appeared
// before Reclaim's context ended: the gateway may still launch it.
var ErrNotReclaimed = errors.New("the gateway had not started the kernel")

// AbandonedStartError reports a kernel start given up because its context
// ended (Ctrl-C, or the run ending) while the start request was under way.
// A gateway that got the request may launch the kernel all the same, later;
// Reclaim finds and deletes it. Errors.Is and errors.As see the cause of
// the context's end.
type AbandonedStartError struct {
	Op    string // the operation, such as "start kernel \"python3\""
	Cause error  // why the context ended

	c       *Client
	startID string // the mark the kernel carries (see startIDKey)
	answers <-chan startAnswer
	pending int           // requests not answered yet
	busy    chan struct{} // held by the Reclaim under way
	done    bool          // Reclaim is over
	id      string        // the kernel it deleted
}

// Error returns a one-line description.
func (e *AbandonedStartError) Error() string { return fmt.Sprintf("%s: %v", e.Op, e.Cause) }

// Unwrap returns the cause.
func (e *AbandonedStartError) Unwrap() error { return e.Cause }

// Reclaim deletes the kernel the abandoned start launched, as soon as it is
// known: the answer of a start request still under way names it, or it is
// found among the gateway's kernels by the mark the start gave it (its
// KERNEL_START_ID, which gateways that pass a start's KERNEL_* variables on
// put in its environment), looked for until ctx ends. It returns the
// deleted kernel's id; "" and nil when the gateway refused every request
// (nothing was launched); an error wrapping ErrNotReclaimed when ctx ended
// first. A second call returns what the first found; calls made while one
// is under way wait for it, as long as ctx lets them.
func (e *AbandonedStartError) Reclaim(ctx context.Context) (string, error) {
	select {
	case e.busy <- struct{}{}:
		defer func() { <-e.busy }()
	case <-ctx.Done():
		return "", fmt.Errorf("%s: %w", e.Op, ErrNotReclaimed)
	}
	if e.done {
		return e.id, nil
	}
	other := map[string]bool{} // kernels that answered with another mark
	refused := true            // every answer so far was the gateway's refusal
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		var answers <-chan startAnswer
		if e.pending > 0 {
			answers = e.answers
		}
		select {
		case a := <-answers:
			e.pending--
			var he *HTTPError
			switch {
			case a.err == nil:
				return e.delete(ctx, a.m.ID)
			case !errors.As(a.err, &he):
				refused = false // no answer in time: it may have launched one
			}
			if e.pending == 0 && refused {
				e.done = true
				return "", nil
			}
		case <-poll.C:
			if k, ok := e.c.findStarted(ctx, e.startID, other); ok {
				return e.delete(ctx, k.ID)
			}
			poll.Reset(reclaimPoll)
		case <-ctx.Done():
			return "", fmt.Errorf("%s: %w", e.Op, ErrNotReclaimed)
		}
	}
}

// delete deletes the kernel the start launched, and in the background any
// other that a request still under way launches.
func (e *AbandonedStartError) delete(ctx context.Context, id string) (string, error) {
	e.c.discardOthers(ctx, e.answers, e.pending, id)
	e.pending = 0
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reclaimDeleteWait)
	defer cancel()
	if err := e.c.DeleteKernel(dctx, id); err != nil && !errors.Is(err, ErrKernelNotFound) {
		return "", err
	}
	e.done, e.id = true, id
	return id, nil
}
