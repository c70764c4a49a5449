package jupyter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
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
	// LaunchTimeout.
	Env map[string]string
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
// request may block for up to the client's LaunchTimeout while a gateway
// launches the kernel.
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
	if _, ok := env["KERNEL_LAUNCH_TIMEOUT"]; !ok {
		env["KERNEL_LAUNCH_TIMEOUT"] = strconv.Itoa(int(math.Ceil(c.launchTimeout.Seconds())))
	}
	body := struct {
		Name string            `json:"name"`
		Env  map[string]string `json:"env"`
	}{name, env}
	var m kernelModel
	if err := c.do(ctx, c.launchTimeout+launchPad, op, http.MethodPost, "/api/kernels", body, &m, nil); err != nil {
		return Kernel{}, err
	}
	if m.ID == "" {
		return Kernel{}, fmt.Errorf("%s: the server returned no kernel id", op)
	}
	return m.kernel(), nil
}

// kernelPath returns the REST path of a kernel.
func kernelPath(id string) string {
	return "/api/kernels/" + url.PathEscape(id)
}

// GetKernel returns a kernel's model. An unknown kernel gives an error
// wrapping [ErrKernelNotFound].
func (c *Client) GetKernel(ctx context.Context, id string) (Kernel, error) {
	var m kernelModel
	if err := c.do(ctx, requestTimeout, fmt.Sprintf("get kernel %s", id), http.MethodGet, kernelPath(id), nil, &m, ErrKernelNotFound); err != nil {
		return Kernel{}, err
	}
	return m.kernel(), nil
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

// DeleteKernel shuts the kernel down and removes it.
func (c *Client) DeleteKernel(ctx context.Context, id string) error {
	return c.do(ctx, requestTimeout, fmt.Sprintf("delete kernel %s", id), http.MethodDelete, kernelPath(id), nil, nil, ErrKernelNotFound)
}
