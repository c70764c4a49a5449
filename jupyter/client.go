package jupyter

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// defaultLaunchTimeout is how long a kernel may take to start.
	defaultLaunchTimeout = 60 * time.Second
	// launchPad is added to the launch timeout for the start request's own
	// HTTP timeout, so that the gateway answers before we give up (as
	// jupyter_server's gateway client does: 40 s + 2 s).
	launchPad = 2 * time.Second
	// requestTimeout bounds every other REST request.
	requestTimeout = 30 * time.Second
	// handshakeTimeout bounds the WebSocket handshake. The server waits up
	// to its kernel_info_timeout (60 s) for the kernel before upgrading.
	handshakeTimeout = 75 * time.Second
	// maxResponseBody bounds the JSON bodies the client decodes.
	maxResponseBody = 8 << 20
	// writeFrame is the most one WebSocket frame the client sends holds:
	// its connections' write buffer. A large message (an upload's chunk)
	// is written a frame's worth at a time, each under its own writeWait.
	writeFrame = 256 << 10
)

// Config configures a [Client].
type Config struct {
	// URL is the server's address: http(s)://host[:port][/base/path]. A
	// "?token=T" query is accepted; it is used as the token and never shown.
	URL string
	// Token is the server's token. When non-empty it overrides a token in
	// URL. It is sent as "Authorization: token T" on every request.
	Token string
	// CACertFile is a PEM file of certificates to trust in addition to the
	// system's, for servers with a private CA. TLS verification is always on.
	CACertFile string
	// HTTPClient, if set, is used for REST requests. Its Timeout, if any,
	// must exceed LaunchTimeout for StartKernel to be useful.
	HTTPClient *http.Client
	// LaunchTimeout bounds a kernel start, and the wait for a kernel to
	// answer a new connection; the default is 60 s. It is also sent to the
	// gateway as KERNEL_LAUNCH_TIMEOUT.
	LaunchTimeout time.Duration
}

// Client talks to one Jupyter server. It is safe for concurrent use.
type Client struct {
	base          url.URL // scheme, host and base path; no query, no user info
	token         string
	hc            *http.Client
	dialer        *websocket.Dialer
	launchTimeout time.Duration
	starts        *startLog // what the gateway's starts taught us
}

// NewClient returns a Client for cfg. It fails on a malformed URL, an
// unsupported scheme or an unreadable CA file; it does not contact the
// server.
func NewClient(cfg Config) (*Client, error) {
	base, urlToken, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	token := urlToken
	if cfg.Token != "" {
		token = cfg.Token
	}
	tlsConf, err := tlsConfig(cfg.CACertFile)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dialQuickAck,
			TLSClientConfig:     tlsConf,
			TLSHandshakeTimeout: 30 * time.Second,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}}
	}
	launch := cfg.LaunchTimeout
	if launch <= 0 {
		launch = defaultLaunchTimeout
	}
	return &Client{
		base:  *base,
		token: token,
		hc:    hc,
		dialer: &websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			NetDialContext:   dialQuickAck,
			TLSClientConfig:  tlsConf,
			HandshakeTimeout: handshakeTimeout,
			ReadBufferSize:   16 << 10,
			// A message goes out in frames of up to this size. Uploads
			// send 1 MiB messages, and tornado 6.2 joins a message's
			// frames by copying all it has at each frame: large frames
			// keep that cheap. The buffers are shared by the client's
			// connections and held only while a message is written.
			WriteBufferSize: writeFrame,
			WriteBufferPool: &sync.Pool{},
		},
		launchTimeout: launch,
		starts:        newStartLog(),
	}, nil
}

// parseURL checks raw and splits off a "token" query parameter.
func parseURL(raw string) (*url.URL, string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, "", errors.New("gateway URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("invalid gateway URL %q", redactURL(raw))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, "", fmt.Errorf("invalid gateway URL %q: scheme must be http or https", redactURL(raw))
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, "", fmt.Errorf("invalid gateway URL %q: no host", redactURL(raw))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, "", fmt.Errorf("invalid gateway URL %q: port %s is not 1-65535", redactURL(raw), p)
		}
	}
	token := u.Query().Get("token")
	u.RawQuery = ""
	u.Fragment = ""
	u.RawFragment = ""
	u.User = nil
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, token, nil
}

// DisplayURL returns raw without credentials: no user information and no
// "token" query parameter. It is how a gateway URL is shown
// in records and messages.
func DisplayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User = nil
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "token") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// redactURL hides the user info (user:password@) and the query (which may
// hold a token) of a URL that could not be parsed, for error messages.
func redactURL(raw string) string {
	rest := ""
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw, rest = raw[:i], "?..."
	}
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			raw = raw[:j+3] + "***" + raw[i:]
		}
	}
	return raw + rest
}

// tlsConfig returns the TLS settings: system roots plus those of caFile.
func tlsConfig(caFile string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA certificates: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read CA certificates: no PEM certificate in %s", caFile)
	}
	conf.RootCAs = pool
	return conf, nil
}

// URL returns the server's URL for display. It never contains the token.
func (c *Client) URL() string {
	return c.base.String()
}

// endpoint returns the full URL of an API path such as "/api/kernels".
func (c *Client) endpoint(path string) string {
	u := c.base
	u.Path = c.base.Path + path
	return u.String()
}

// do sends one REST request with the token and decodes a JSON answer into
// out (if non-nil). op names the operation for errors; notFound, if non-nil,
// is what a 404 maps to.
func (c *Client) do(ctx context.Context, timeout time.Duration, op, method, path string, in, out any, notFound error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path), body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	c.authorize(req.Header)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, op, timeout, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		he := newHTTPError(op, resp, c.token)
		if resp.StatusCode == http.StatusNotFound && notFound != nil {
			he.kind = notFound
		}
		return he
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBody)).Decode(out); err != nil {
		if ctx.Err() != nil {
			return c.transportError(ctx, op, timeout, err)
		}
		return fmt.Errorf("%s: invalid JSON answer from %s", op, c.URL())
	}
	return nil
}

// authorize adds the token header.
func (c *Client) authorize(h http.Header) {
	if c.token != "" {
		h.Set("Authorization", "token "+c.token)
	}
}

// transportError turns a failed round trip into a cancellation error, a
// timeout or an *UnreachableError.
// within is the request's time limit, if known.
func (c *Client) transportError(ctx context.Context, op string, within time.Duration, err error) error {
	if cerr := context.Cause(ctx); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the request URL
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	connecting := errors.As(err, &dnsErr) || (errors.As(err, &opErr) && opErr.Op == "dial")
	if !connecting && ctx.Err() != nil {
		// Connected, but the answer did not come in time.
		if within > 0 {
			return fmt.Errorf("%s: no answer from %s within %s: %w", op, c.URL(), within, context.DeadlineExceeded)
		}
		return fmt.Errorf("%s: no answer from %s in time: %w", op, c.URL(), context.DeadlineExceeded)
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		err = fmt.Errorf("%w: %s", context.DeadlineExceeded, shortNetError(err))
	}
	return fmt.Errorf("%s: %w", op, &UnreachableError{URL: c.URL(), Err: err})
}

// Version returns the server's version from GET /api. It is a cheap
// readiness probe; Jupyter Server answers it without checking the token.
func (c *Client) Version(ctx context.Context) (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	if err := c.do(ctx, requestTimeout, "get server version", http.MethodGet, "/api", nil, &v, nil); err != nil {
		return "", err
	}
	return v.Version, nil
}

// KernelSpecs lists the kernels the server can start.
type KernelSpecs struct {
	Default string                // the name of the default kernel spec
	Names   []string              // every spec's name, sorted
	Specs   map[string]KernelSpec // by name
}

// KernelSpec describes one kind of kernel the server can start.
type KernelSpec struct {
	Name        string // the spec's name, as passed to StartKernel
	DisplayName string // a human-readable name, such as "Python 3 (ipykernel)"
	Language    string // the kernel's language, such as "python"
}

// KernelSpecs returns the server's kernel specs (GET /api/kernelspecs).
func (c *Client) KernelSpecs(ctx context.Context) (KernelSpecs, error) {
	var raw struct {
		Default     string `json:"default"`
		Kernelspecs map[string]struct {
			Name string `json:"name"`
			Spec struct {
				DisplayName string `json:"display_name"`
				Language    string `json:"language"`
			} `json:"spec"`
		} `json:"kernelspecs"`
	}
	if err := c.do(ctx, requestTimeout, "list kernel specs", http.MethodGet, "/api/kernelspecs", nil, &raw, nil); err != nil {
		return KernelSpecs{}, err
	}
	ks := KernelSpecs{Default: raw.Default, Specs: make(map[string]KernelSpec, len(raw.Kernelspecs))}
	for name, s := range raw.Kernelspecs {
		ks.Names = append(ks.Names, name)
		ks.Specs[name] = KernelSpec{Name: name, DisplayName: s.Spec.DisplayName, Language: s.Spec.Language}
	}
	slices.Sort(ks.Names)
	return ks, nil
}
