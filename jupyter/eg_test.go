package jupyter_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// This file fakes only what Enterprise Gateway does differently from the
// Jupyter Server the other tests run: a start request that blocks while the
// kernel's pod is launched, 403 "Resource Limit" at EG_MAX_KERNELS, and 403
// for a user it does not authorize.

// egStart is a fake Enterprise Gateway's POST /api/kernels: it answers with
// refuse(n) for the n-th request (1-based) when that is not nil, else it
// blocks for the launch timeout the request carries and then answers 201.
type egStart struct {
	refuse func(n int) (status int, message string)
	block  bool

	mu       sync.Mutex
	requests int
	env      map[string]string
	late     bool // the client had given up when the kernel was launched
}

func (f *egStart) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/kernels" {
		jsonError(w, 404, "Not Found", "")
		return
	}
	var body struct {
		Env map[string]string `json:"env"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.requests++
	n := f.requests
	f.env = body.Env
	f.mu.Unlock()
	if f.refuse != nil {
		if status, msg := f.refuse(n); status != 0 {
			jsonError(w, status, "Forbidden", msg)
			return
		}
	}
	if f.block {
		// Enterprise Gateway answers once the kernel is launched, which may
		// take the whole launch timeout.
		secs, _ := strconv.ParseFloat(body.Env["KERNEL_LAUNCH_TIMEOUT"], 64)
		select {
		case <-time.After(time.Duration(secs * float64(time.Second))):
		case <-r.Context().Done():
		}
		if r.Context().Err() != nil {
			f.mu.Lock()
			f.late = true
			f.mu.Unlock()
			return
		}
	}
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"id": "`+fakeKernel+`", "name": "python_kubernetes", "execution_state": "starting"}`)
}

func (f *egStart) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// fakeClock is a queue clock that moves only when the queue waits.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return nil
}

// resourceLimit is Enterprise Gateway 3's refusal at EG_MAX_KERNELS_PER_USER
// (Kernel Gateway's is "Resource Limit").
const resourceLimit = "A max kernels per user limit has been set to 2 and user 'analyst' currently has 2 active and pending kernels."

func TestEnterpriseGatewayLimitsAreResourceLimits(t *testing.T) {
	for _, msg := range []string{
		"Resource Limit",
		resourceLimit,
		"A max kernels limit has been set to 4 and there are currently 4 active and pending kernels.",
	} {
		eg := &egStart{refuse: func(int) (int, string) { return 403, msg }}
		c := fakeGateway(t, eg, time.Second)
		_, err := c.StartKernel(context.Background(), jupyter.StartOptions{})
		if !errors.Is(err, jupyter.ErrResourceLimit) || errors.Is(err, jupyter.ErrUnauthorized) {
			t.Errorf("%q: err = %v, want ErrResourceLimit only", msg, err)
		}
	}
}

func TestEnterpriseGatewaySlowStart(t *testing.T) {
	tests := []struct {
		name   string
		launch time.Duration     // the client's LaunchTimeout
		env    map[string]string // the start's env
		want   string            // KERNEL_LAUNCH_TIMEOUT the gateway got
	}{
		{"launch timeout from the client", 1500 * time.Millisecond, nil, "2"},
		{"a longer KERNEL_LAUNCH_TIMEOUT lengthens the request", 200 * time.Millisecond, map[string]string{"KERNEL_LAUNCH_TIMEOUT": "2.5"}, "2.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eg := &egStart{block: true}
			c := fakeGateway(t, eg, tt.launch)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			k, err := c.StartKernel(ctx, jupyter.StartOptions{Name: "python_kubernetes", Env: tt.env})
			if err != nil || k.ID != fakeKernel {
				t.Fatalf("StartKernel after %v = %+v, %v; want the kernel once launched", time.Since(start), k, err)
			}
			eg.mu.Lock()
			defer eg.mu.Unlock()
			if eg.late {
				t.Error("the client gave up before the gateway's launch timeout")
			}
			if got := eg.env["KERNEL_LAUNCH_TIMEOUT"]; got != tt.want {
				t.Errorf("KERNEL_LAUNCH_TIMEOUT = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnterpriseGatewayResourceLimitQueues(t *testing.T) {
	const refusals = 4
	eg := &egStart{refuse: func(n int) (int, string) {
		if n <= refusals {
			return 403, resourceLimit
		}
		return 0, ""
	}}
	c := fakeGateway(t, eg, time.Second)
	clock := newFakeClock()
	var notices []string
	k, err := c.StartKernel(context.Background(), jupyter.StartOptions{Queue: jupyter.Queue{
		Timeout: 5 * time.Minute,
		OnWait:  func(msg string) { notices = append(notices, msg) },
		Now:     clock.Now,
		Wait:    clock.Wait,
	}})
	if err != nil || k.ID != fakeKernel {
		t.Fatalf("StartKernel = %+v, %v; want the kernel after %d refusals", k, err, refusals)
	}
	if got := eg.count(); got != refusals+1 {
		t.Errorf("start requests = %d, want %d", got, refusals+1)
	}
	want := []string{"gateway at its kernel limit; waiting for a free slot (up to 5m)"}
	if strings.Join(notices, "|") != strings.Join(want, "|") {
		t.Errorf("notices = %q, want %q", notices, want)
	}
	if len(clock.waits) != refusals {
		t.Fatalf("waits = %v, want %d", clock.waits, refusals)
	}
	for i, d := range clock.waits {
		// 1 s, 2 s, 4 s, 8 s, each with its second half random.
		full := time.Second << i
		if d < full/2 || d > full {
			t.Errorf("wait %d = %v, want within [%v, %v]", i+1, d, full/2, full)
		}
	}
}

func TestEnterpriseGatewayQueueTimeout(t *testing.T) {
	eg := &egStart{refuse: func(int) (int, string) { return 403, resourceLimit }}
	c := fakeGateway(t, eg, time.Second)
	clock := newFakeClock()
	_, err := c.StartKernel(context.Background(), jupyter.StartOptions{Queue: jupyter.Queue{
		Timeout: 2 * time.Minute,
		Now:     clock.Now,
		Wait:    clock.Wait,
	}})
	var qe *jupyter.QueueTimeoutError
	if !errors.As(err, &qe) || !errors.Is(err, jupyter.ErrResourceLimit) {
		t.Fatalf("err = %v, want a QueueTimeoutError wrapping ErrResourceLimit", err)
	}
	var total time.Duration
	for _, d := range clock.waits {
		if d > 30*time.Second {
			t.Errorf("wait %v is longer than the 30 s cap", d)
		}
		total += d
	}
	if total != 2*time.Minute || qe.Attempts != eg.count() {
		t.Errorf("waited %v over %d attempts (gateway saw %d), want exactly the 2m queue timeout", total, qe.Attempts, eg.count())
	}
	msg := err.Error()
	if strings.Count(msg, "start kernel") != 1 || !strings.Contains(msg, "kernel limit for 2m") ||
		!strings.Contains(msg, "limit has been set to 2") || strings.ContainsAny(msg, "\n{<") {
		t.Errorf("message = %q, want one line naming the wait and the gateway's reason once", msg)
	}
}

func TestEnterpriseGatewayResourceLimitWithoutQueue(t *testing.T) {
	eg := &egStart{refuse: func(int) (int, string) { return 403, resourceLimit }}
	c := fakeGateway(t, eg, time.Second)
	_, err := c.StartKernel(context.Background(), jupyter.StartOptions{})
	if !errors.Is(err, jupyter.ErrResourceLimit) || eg.count() != 1 {
		t.Errorf("err = %v after %d requests, want ErrResourceLimit after one", err, eg.count())
	}
}

func TestEnterpriseGatewayQueueCancelled(t *testing.T) {
	eg := &egStart{refuse: func(int) (int, string) { return 403, resourceLimit }}
	c := fakeGateway(t, eg, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	// The real timer, not a fake one: cancelling must end a long wait.
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.StartKernel(ctx, jupyter.StartOptions{Queue: jupyter.Queue{Timeout: time.Hour}})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

func TestEnterpriseGatewayUserNotAuthorized(t *testing.T) {
	for _, msg := range []string{
		"User 'root' is not authorized to start kernel 'Python on Kubernetes'. Ensure KERNEL_USERNAME is set to an appropriately authorized user and retry the request.",
		"User 'root' is not in the set of users authorized to start kernel 'Python on Kubernetes'. Ensure KERNEL_USERNAME is set to an appropriate value and retry the request.",
	} {
		eg := &egStart{refuse: func(int) (int, string) { return 403, msg }}
		c := fakeGateway(t, eg, time.Second)
		clock := newFakeClock()
		_, err := c.StartKernel(context.Background(), jupyter.StartOptions{Name: "python_kubernetes", Queue: jupyter.Queue{
			Timeout: 5 * time.Minute, Now: clock.Now, Wait: clock.Wait,
		}})
		if eg.count() != 1 || len(clock.waits) != 0 {
			t.Errorf("%d start requests, %d waits; want exactly one request", eg.count(), len(clock.waits))
		}
		var una *jupyter.UserNotAllowedError
		if !errors.As(err, &una) || una.User != "root" || !errors.Is(err, jupyter.ErrUnauthorized) || errors.Is(err, jupyter.ErrResourceLimit) {
			t.Fatalf("err = %v, want a UserNotAllowedError for root matching ErrUnauthorized only", err)
		}
		want := `start kernel "python_kubernetes": the gateway refuses to start kernels for user "root": set KERNEL_USERNAME to an allowed user (HTTP 403: `
		if got := err.Error(); !strings.HasPrefix(got, want) || strings.Contains(got, "retry") || strings.ContainsAny(got, "\n{<") {
			t.Errorf("message = %q, want one line starting %q", got, want)
		}
	}
}

// fakeGateway serves h and returns a client for it with the given launch
// timeout.
func fakeGateway(t *testing.T, h http.Handler, launch time.Duration) *jupyter.Client {
	t.Helper()
	c := fakeServer(t, h.ServeHTTP, nil)
	c, err := jupyter.NewClient(jupyter.Config{URL: c.URL(), Token: "T", LaunchTimeout: launch})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// egLimitCrash is Enterprise Gateway 3.2's answer to a start that races
// others at its kernel limit: HTTP 500 with an AttributeError's traceback.
const egLimitCrash = `{"reason": "Internal Server Error", "message": "Unknown server error", "traceback": "Traceback (most recent call last):\n  File \"/opt/conda/lib/python3.11/site-packages/tornado/web.py\", line 1790, in _execute\n    result = await result\n  File \"/opt/conda/lib/python3.11/site-packages/enterprise_gateway/services/kernels/handlers.py\", line 106, in post\n    await super().post()\n  File \"/opt/conda/lib/python3.11/site-packages/jupyter_server/services/kernels/kernelmanager.py\", line 510, in kernel_model\n    \"last_activity\": isoformat(kernel.last_activity),\nAttributeError: 'RemoteKernelManager' object has no attribute 'last_activity'\n"}`

// egLimit is a fake Enterprise Gateway with room for max kernels: a start
// beyond that is answered with egLimitCrash; DELETE frees a slot.
type egLimit struct {
	max int

	mu       sync.Mutex
	changed  *sync.Cond // a slot was freed or a start refused
	live     int
	started  int
	requests int
	crashes  int
}

func newEGLimit(max int) *egLimit {
	f := &egLimit{max: max}
	f.changed = sync.NewCond(&f.mu)
	return f
}

func (f *egLimit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/kernels":
		f.requests++
		if f.live >= f.max {
			f.crashes++
			f.changed.Broadcast()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, egLimitCrash)
			return
		}
		f.live++
		f.started++
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id": "k`+strconv.Itoa(f.started)+`", "name": "python3", "execution_state": "starting"}`)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/kernels/k"):
		f.live--
		f.changed.Broadcast()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && r.URL.Path == "/api/kernels":
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, egLimitCrash)
	default:
		jsonError(w, 404, "Not Found", "")
	}
}

// waitFree is a Queue's wait: it returns once the gateway has a free slot.
func (f *egLimit) waitFree(ctx context.Context, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.live >= f.max {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.changed.Wait()
	}
	return nil
}

// waitRefused returns once the gateway has refused n starts.
func (f *egLimit) waitRefused(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.crashes < n {
		f.changed.Wait()
	}
}

// TestEnterpriseGatewayLimitCrashQueues starts 8 kernels at once on a fake
// Enterprise Gateway with room for 2 that answers the others with its HTTP
// 500 AttributeError: each start waits for a free slot instead of failing.
// The first two hold their kernels until each of the other six was refused.
func TestEnterpriseGatewayLimitCrashQueues(t *testing.T) {
	const starts, slots = 8, 2
	eg := newEGLimit(slots)
	c := fakeGateway(t, eg, time.Second)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		notices int
		errs    []error
	)
	for range starts {
		wg.Go(func() {
			k, err := c.StartKernel(context.Background(), jupyter.StartOptions{Queue: jupyter.Queue{
				Timeout: 5 * time.Minute,
				OnWait:  func(string) { mu.Lock(); notices++; mu.Unlock() },
				Now:     func() time.Time { return now },
				Wait:    eg.waitFree,
			}})
			if err == nil {
				eg.waitRefused(starts - slots)
				err = c.DeleteKernel(context.Background(), k.ID)
			}
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("start: %v", err)
		}
	}
	eg.mu.Lock()
	defer eg.mu.Unlock()
	if eg.started != starts || eg.requests != starts+eg.crashes || eg.live != 0 {
		t.Errorf("gateway started %d kernels on %d requests (%d refused), %d left; want %d started, none left",
			eg.started, eg.requests, eg.crashes, eg.live, starts)
	}
	if notices != starts-slots {
		t.Errorf("%d starts said they were waiting, want %d", notices, starts-slots)
	}
}

func TestEnterpriseGatewayLimitCrashError(t *testing.T) {
	eg := newEGLimit(0)
	c := fakeGateway(t, eg, time.Second)
	_, err := c.StartKernel(context.Background(), jupyter.StartOptions{})
	want := `start kernel "python3": HTTP 500 Internal Server Error: AttributeError: 'RemoteKernelManager' object has no attribute 'last_activity' (` + jupyter.ErrResourceLimit.Error() + ")"
	if !errors.Is(err, jupyter.ErrResourceLimit) || err.Error() != want {
		t.Errorf("start: err = %v\nwant %s", err, want)
	}
	// The same exception when listing kernels is a gateway bug, no limit.
	_, err = c.ListKernels(context.Background())
	if err == nil || errors.Is(err, jupyter.ErrResourceLimit) || strings.Contains(err.Error(), "Traceback") {
		t.Errorf("list: err = %v, want an HTTP 500 that is no resource limit and shows no traceback", err)
	}
}

// TestEnterpriseGatewayLimitCrashWithoutTraceback: a gateway that names the
// exception in its message and sends no traceback keeps its message.
func TestEnterpriseGatewayLimitCrashWithoutTraceback(t *testing.T) {
	c := fakeGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"reason": "Internal Server Error", "message": "AttributeError: 'RemoteKernelManager' object has no attribute 'last_activity'"}`)
	}), time.Second)
	_, err := c.StartKernel(context.Background(), jupyter.StartOptions{})
	want := `start kernel "python3": HTTP 500 Internal Server Error: AttributeError: 'RemoteKernelManager' object has no attribute 'last_activity' (` + jupyter.ErrResourceLimit.Error() + ")"
	if !errors.Is(err, jupyter.ErrResourceLimit) || err.Error() != want {
		t.Errorf("start: err = %v\nwant %s", err, want)
	}
}
