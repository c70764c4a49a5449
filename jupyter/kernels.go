package jupyter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kernel is the server's model of a running kernel.
type Kernel struct {
	ID             string    // the kernel's id, a UUID
	Name           string    // the kernel spec's name, such as "python3"
	ExecutionState string    // "starting", "idle", "busy", "restarting", "dead", ...
	LastActivity   time.Time // the last message seen from the kernel (zero if unknown)
	Connections    int       // WebSocket connections open to the kernel
}

// kernelModel is the wire form of Kernel.
type kernelModel struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	ExecutionState string `json:"execution_state"`
	LastActivity   string `json:"last_activity"`
	Connections    int    `json:"connections"`
}

func (m kernelModel) kernel() Kernel {
	k := Kernel{ID: m.ID, Name: m.Name, ExecutionState: m.ExecutionState, Connections: m.Connections}
	if t, err := time.Parse(time.RFC3339Nano, m.LastActivity); err == nil {
		k.LastActivity = t
	}
	return k
}

// StartOptions configures [Client.StartKernel].
type StartOptions struct {
	// Name is the kernel spec to start; the default is "python3".
	Name string
	// Env is passed to the kernel. Only KERNEL_* keys are sent: gateways
	// drop the others. KERNEL_LAUNCH_TIMEOUT defaults to the client's
	// LaunchTimeout; a larger value given here also lengthens the start
	// request's HTTP timeout, which always exceeds the launch timeout.
	Env map[string]string
	// Queue says how long to wait, retrying, while the gateway is at its
	// kernel limit. The zero Queue fails at once.
	Queue Queue
}

// ListKernels returns the server's running kernels (GET /api/kernels). On a
// gateway that forbids listing it returns an error wrapping
// [ErrListingDisabled]; with a wrong token, one wrapping [ErrUnauthorized].
func (c *Client) ListKernels(ctx context.Context) ([]Kernel, error) {
	const op = "list kernels"
	var models []kernelModel
	err := c.do(ctx, requestTimeout, op, http.MethodGet, "/api/kernels", nil, &models, nil)
	var he *HTTPError
	if errors.As(err, &he) && he.Status == http.StatusForbidden && errors.Is(he, ErrUnauthorized) {
		// Kernel Gateway answers a bare 403 both for a wrong token (Jupyter
		// Server) and for listing switched off: an authenticated endpoint
		// that is always allowed tells them apart.
		if _, serr := c.KernelSpecs(ctx); serr == nil {
			he.kind = ErrListingDisabled
		}
	}
	if err != nil {
		return nil, err
	}
	ks := make([]Kernel, 0, len(models))
	for _, m := range models {
		ks = append(ks, m.kernel())
	}
	return ks, nil
}

// StartKernel starts a kernel (POST /api/kernels) and returns its model. The
// request may block for up to the launch timeout while a gateway launches
// the kernel; its HTTP timeout is the launch timeout plus a pad, so that the
// gateway's own answer comes first. A gateway at its kernel limit gives an
// error wrapping [ErrResourceLimit], after queueing as opts.Queue says; one
// refusing the user gives a [*UserNotAllowedError], at once.
//
// A start the gateway does not answer within a short time that adapts to
// its earlier starts is looked into and, on a gateway known to drop such
// requests (Kernel Gateway 2), sent again; see startIDKey.
//
// Cancelling ctx ends the waits between queued attempts and the wait for an
// answer at once, but not a start request already sent: a server that got it
// launches the kernel anyway. The error is then an [*AbandonedStartError],
// whose Reclaim finds that kernel and deletes it. The request's own timeout
// bounds it.
func (c *Client) StartKernel(ctx context.Context, opts StartOptions) (Kernel, error) {
	name := opts.Name
	if name == "" {
		name = "python3"
	}
	op := fmt.Sprintf("start kernel %q", name)
	env := map[string]string{}
	for k, v := range opts.Env {
		if strings.HasPrefix(k, "KERNEL_") {
			env[k] = v
		}
	}
	launch := c.launchTimeout
	if v, ok := env["KERNEL_LAUNCH_TIMEOUT"]; !ok {
		env["KERNEL_LAUNCH_TIMEOUT"] = strconv.Itoa(int(math.Ceil(launch.Seconds())))
	} else if secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && secs > launch.Seconds() && secs < math.MaxInt32 {
		launch = time.Duration(secs * float64(time.Second))
	}
	k, err := startQueued(ctx, op, opts.Queue, func() (Kernel, error) {
		return c.startOnce(ctx, op, name, env, launch)
	})
	if err != nil {
		return k, c.noSuchSpec(ctx, name, err)
	}
	return k, nil
}

// NoKernelSpecError is a start of a kernel spec the gateway does not have.
// Servers answer such a start with HTTP 500 (Jupyter Server) or 404; the
// gateway's list of specs tells it apart from other failures.
type NoKernelSpecError struct {
	Name string   // the spec asked for
	Have []string // the gateway's specs, "name (display name)"
}

func (e *NoKernelSpecError) Error() string {
	return fmt.Sprintf("start kernel %q: the gateway has no such kernel spec; it has %s", e.Name, strings.Join(e.Have, ", "))
}

// noSuchSpec turns err, a failed start of spec name, into a
// [*NoKernelSpecError] when the gateway's specs do not include name. Any
// other failure is returned as it is.
func (c *Client) noSuchSpec(ctx context.Context, name string, err error) error {
	var he *HTTPError
	if !errors.As(err, &he) || he.kind != nil || ctx.Err() != nil {
		return err
	}
	specs, serr := c.KernelSpecs(ctx)
	if serr != nil || slices.Contains(specs.Names, name) {
		return err
	}
	have := make([]string, len(specs.Names))
	for i, n := range specs.Names {
		have[i] = n
		if d := specs.Specs[n].DisplayName; d != "" {
			have[i] += " (" + d + ")"
		}
	}
	return &NoKernelSpecError{Name: name, Have: have}
}

// kernelPath returns the REST path of a kernel.
func kernelPath(id string) string {
	return "/api/kernels/" + url.PathEscape(id)
}

// getAnswerWait is how long one GET of a kernel may go unanswered before it
// is sent again, up to maxGetSends times: Kernel Gateway 2.5 loses a request
// that arrives as it restarts a dead kernel, with the connection it came on
// ("RuntimeError: Cannot enter into task" in its log), and the client asks
// about the kernel just then.
const (
	getAnswerWait = 5 * time.Second
	maxGetSends   = 6
)

// GetKernel returns a kernel's model. An unknown kernel gives an error
// wrapping [ErrKernelNotFound].
func (c *Client) GetKernel(ctx context.Context, id string) (Kernel, error) {
	op := fmt.Sprintf("get kernel %s", id)
	for sent := 1; ; sent++ {
		var m kernelModel
		err := c.do(ctx, getAnswerWait, op, http.MethodGet, kernelPath(id), nil, &m, ErrKernelNotFound)
		if err == nil {
			return m.kernel(), nil
		}
		if sent == maxGetSends || !noAnswer(ctx, err) {
			return Kernel{}, err
		}
	}
}

// InterruptKernel interrupts the kernel's running cell. The cell ends with
// a KeyboardInterrupt error and the kernel's variables survive.
func (c *Client) InterruptKernel(ctx context.Context, id string) error {
	return c.do(ctx, requestTimeout, fmt.Sprintf("interrupt kernel %s", id), http.MethodPost, kernelPath(id)+"/interrupt", struct{}{}, nil, ErrKernelNotFound)
}

// RestartKernel restarts the kernel, losing its state. The server answers
// once the new kernel process has started.
func (c *Client) RestartKernel(ctx context.Context, id string) error {
	return c.do(ctx, c.launchTimeout+launchPad, fmt.Sprintf("restart kernel %s", id), http.MethodPost, kernelPath(id)+"/restart", struct{}{}, nil, ErrKernelNotFound)
}

// deleteRetryWait bounds how long DeleteKernel retries server errors: a
// kernel the server is restarting (after it died) cannot be deleted until the
// restart is over, and Jupyter Server answers 500 meanwhile.
const deleteRetryWait = 10 * time.Second

// DeleteKernel shuts the kernel down and removes it. Server errors (5xx) are
// retried for a few seconds, so that a kernel caught restarting is still
// deleted. A DELETE that gets no answer within deleteAnswerWait is checked
// (is the kernel gone after all?) and sent again while ctx allows.
func (c *Client) DeleteKernel(ctx context.Context, id string) error {
	op := fmt.Sprintf("delete kernel %s", id)
	deadline := time.Now().Add(deleteRetryWait)
	wait := 100 * time.Millisecond
	for unanswered := 0; ; {
		err := c.do(ctx, deleteAnswerWait, op, http.MethodDelete, kernelPath(id), nil, nil, ErrKernelNotFound)
		if noAnswer(ctx, err) {
			if c.kernelGone(ctx, id) {
				return nil // the delete went through; only its answer was lost
			}
			if unanswered++; unanswered < maxDeleteSends && ctx.Err() == nil {
				continue
			}
			return err
		}
		var he *HTTPError
		if err == nil || !errors.As(err, &he) || he.Status < 500 || time.Now().Add(wait).After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}
