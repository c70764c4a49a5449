package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	neturl "net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/localgw"
	"github.com/analyst-dev/analyst/internal/proc"
	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/redact"
	"github.com/analyst-dev/analyst/jupyter"
)

// Environment variables read for the gateway: the names jupyter_server's own
// gateway client uses.
const (
	envGatewayURL   = "JUPYTER_GATEWAY_URL"
	envGatewayToken = "JUPYTER_GATEWAY_AUTH_TOKEN"
)

// gatewayFlags are the flags every command that talks to a gateway shares.
type gatewayFlags struct {
	url           string
	token         string
	caCert        string
	kernel        string
	launchTimeout time.Duration
	queueTimeout  time.Duration
	workdir       string
	// notices, once connect has run, is where a start that waits for a
	// kernel slot says so (commands without an observer of their own).
	notices io.Writer
	// warn, when set, is where the redactor's warning goes instead of the
	// writer it was made with.
	warn io.Writer
	// local allows starting a local gateway when none is configured.
	local bool
	// kernelEnv names variables the local gateway's kernels get on purpose.
	kernelEnv []string
	// secrets scrubs the secrets from kernel output and LLM answers, once
	// redactor has made it.
	secrets *redact.Redactor
}

// register adds the gateway flags; local also adds --workdir and lets the
// command start a local gateway when no URL is given.
func (g *gatewayFlags) register(fs *pflag.FlagSet, local bool) {
	g.local = local
	if local {
		fs.StringVar(&g.workdir, "workdir", "", "working directory of the local gateway started when no --gateway-url is set (default: the current directory)")
		fs.StringArrayVar(&g.kernelEnv, "kernel-env", nil, "pass this environment variable on to the local gateway's kernels, which otherwise get only what Python needs to run (repeatable)")
	}
	fs.StringVar(&g.url, "gateway-url", "", "Jupyter gateway URL, http(s)://host[:port][/base] (env "+envGatewayURL+")")
	fs.StringVar(&g.token, "gateway-token", "", "gateway auth token (env "+envGatewayToken+")")
	fs.StringVar(&g.caCert, "ca-cert", "", "PEM file of a private CA that signed the gateway's certificate")
	fs.StringVar(&g.kernel, "kernel", "python3", "kernel spec name to start (e.g. python_kubernetes on Enterprise Gateway)")
	fs.DurationVar(&g.launchTimeout, "launch-timeout", 60*time.Second, "how long a kernel may take to start (sent as KERNEL_LAUNCH_TIMEOUT; on Kubernetes include pod scheduling and image pull)")
	fs.DurationVar(&g.queueTimeout, "queue-timeout", 5*time.Minute, "how long to wait for a free kernel slot when the gateway is at its kernel limit (403 Resource Limit); 0 fails at once")
}

// connect returns a client for the gateway the flags and environment name.
// When they name none and the command allows it, it starts a local gateway
// and says so on w; stop ends it and its kernels. stop is never nil.
func (g *gatewayFlags) connect(ctx context.Context, w io.Writer) (c *jupyter.Client, stop func(), err error) {
	stop = func() {}
	g.notices = w
	if g.local && firstNonEmpty(g.url, os.Getenv(envGatewayURL)) == "" {
		if err := g.check(); err != nil {
			return nil, stop, err
		}
		gw, err := localgw.Start(ctx, g.localOptions())
		if err != nil {
			return nil, stop, fmt.Errorf("local gateway: %w", err)
		}
		describeLocal(w, gw)
		if g.secrets != nil {
			g.secrets.Add(secretGatewayToken, gw.Token)
		}
		g.url, g.token = gw.URL, gw.Token
		stop = func() { gw.Stop() }
	}
	c, err = g.client()
	if err != nil {
		stop()
		return nil, func() {}, err
	}
	if warning := plainTokenWarning(firstNonEmpty(g.url, os.Getenv(envGatewayURL)), firstNonEmpty(g.token, os.Getenv(envGatewayToken))); warning != "" {
		fmt.Fprintln(w, warning)
	}
	return c, stop, nil
}

// check validates the gateway flags without contacting anything, so that bad
// input is reported before a run starts.
func (g *gatewayFlags) check() error {
	if g.local && firstNonEmpty(g.url, os.Getenv(envGatewayURL)) == "" {
		if g.caCert != "" || g.token != "" {
			return usageErrorf("--gateway-token and --ca-cert need --gateway-url")
		}
		if err := checkPassEnv(g.kernelEnv, g.checkNotSecret); err != nil {
			return err
		}
		return g.checkStart()
	}
	if len(g.kernelEnv) > 0 {
		return usageErrorf("--kernel-env works with the local gateway only: a remote gateway's kernels get KERNEL_* variables (set KERNEL_%s instead)", g.kernelEnv[0])
	}
	_, err := g.client()
	return err
}

// checkPassEnv checks the names given with --kernel-env: each is set, and
// its value passes notSecret.
func checkPassEnv(names []string, notSecret func(name, value string) error) error {
	for _, name := range names {
		v, ok := os.LookupEnv(name)
		switch {
		case name == "" || strings.ContainsAny(name, "= "):
			return usageErrorf("--kernel-env takes the name of an environment variable, got %q", name)
		case !ok:
			return usageErrorf("--kernel-env %s: no such variable in the environment", name)
		}
		if err := notSecret(name, v); err != nil {
			return err
		}
	}
	return nil
}

// describeLocal says on w which local gateway was started, and which
// runtime folders of killed analysts' gateways its start removed.
func describeLocal(w io.Writer, gw *localgw.Gateway) {
	fmt.Fprintln(w, gw.Describe())
	if s := gw.Cleaned(); s != "" {
		fmt.Fprintf(w, "analyst: %s\n", s)
	}
}

// localOptions are the options of the local gateway the flags ask for.
func (g *gatewayFlags) localOptions() localgw.Options {
	return localgw.Options{Workdir: g.workdir, PassEnv: g.kernelEnv}
}

// Names of the secrets, as their markers show them.
const (
	secretAPIKey       = envAPIKey
	secretGatewayToken = "gateway token"
)

// secretValues returns the secrets analyst holds: the LLM's API key and the
// gateway's tokens (from the flag, the environment, the URL, or the local
// gateway), each a pair of name and value.
func (g *gatewayFlags) secretValues() [][2]string {
	out := [][2]string{{secretAPIKey, os.Getenv(envAPIKey)}, {secretGatewayToken, g.token}, {secretGatewayToken, os.Getenv(envGatewayToken)}}
	if u, err := neturl.Parse(firstNonEmpty(g.url, os.Getenv(envGatewayURL))); err == nil {
		out = append(out, [2]string{secretGatewayToken, u.Query().Get("token")})
	}
	return out
}

// checkNotSecret refuses to send the variable called name to a kernel when
// its value holds a secret.
func (g *gatewayFlags) checkNotSecret(name, v string) error {
	for _, secret := range g.secretValues() {
		if value := secret[1]; value != "" && (v == value || len(value) >= redact.MinLen && strings.Contains(v, value)) {
			return usageErrorf("environment variable %s holds the %s: analyst never sends it to a kernel", name, secret[0])
		}
	}
	return nil
}

// redactor returns the redactor of the command's secrets, which tells w
// once when it replaced one. The local gateway's token joins it when the
// gateway starts.
func (g *gatewayFlags) redactor(w io.Writer) *redact.Redactor {
	if g.secrets == nil {
		g.secrets = &redact.Redactor{OnFirst: func(name string) {
			if g.warn != nil {
				w = g.warn // the console's, which takes its spinner off the line first
			}
			fmt.Fprintf(w, "analyst: warning: the %s appeared in a cell's output or the LLM's answer; it is shown as %s\n", name, redact.Marker(name))
		}}
		for _, secret := range g.secretValues() {
			g.secrets.Add(secret[0], secret[1])
		}
	}
	return g.secrets
}

// client builds the gateway client from the flags, falling back to the
// environment.
func (g *gatewayFlags) client() (*jupyter.Client, error) {
	url := firstNonEmpty(g.url, os.Getenv(envGatewayURL))
	if url == "" {
		return nil, usageErrorf("no gateway: pass --gateway-url or set %s (e.g. http://127.0.0.1:8888)", envGatewayURL)
	}
	if err := g.checkStart(); err != nil {
		return nil, err
	}
	if g.caCert != "" {
		if _, err := os.Stat(g.caCert); err != nil {
			return nil, usageErrorf("--ca-cert %s: %v", g.caCert, human.PathProblem(err))
		}
	}
	c, err := jupyter.NewClient(jupyter.Config{
		URL:           url,
		Token:         firstNonEmpty(g.token, os.Getenv(envGatewayToken)),
		CACertFile:    g.caCert,
		LaunchTimeout: g.launchTimeout,
	})
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return c, nil
}

// plainTokenWarning warns when a token would cross the network unencrypted:
// plain http to a host that is not this machine.
func plainTokenWarning(raw, token string) string {
	u, err := neturl.Parse(raw)
	if err != nil || u.Scheme != "http" || (token == "" && u.Query().Get("token") == "") {
		return ""
	}
	host := u.Hostname()
	if isLoopback(host) {
		return ""
	}
	return fmt.Sprintf("analyst: warning: the gateway token goes to %s over plain http, readable on the way: use https", host)
}

// checkStart validates what goes into a kernel start: the timeouts and the
// KERNEL_* variables of the environment, which are passed on to the gateway.
func (g *gatewayFlags) checkStart() error {
	if g.launchTimeout <= 0 {
		return usageErrorf("--launch-timeout must be positive, got %s", g.launchTimeout)
	}
	if g.queueTimeout < 0 {
		return usageErrorf("--queue-timeout must be 0 (fail at once) or positive, got %s", g.queueTimeout)
	}
	for k, v := range userKernelEnv() {
		if err := checkKernelEnv(k, v); err != nil {
			return err
		}
		if err := g.checkNotSecret(k, v); err != nil {
			return err
		}
	}
	return nil
}

// maxKernelEnvValue is the longest KERNEL_* value Enterprise Gateway accepts.
const maxKernelEnvValue = 4096

// checkKernelEnv rejects a KERNEL_* value Enterprise Gateway would refuse
// (or that would reach a shell on the way to the kernel's pod): too long, or
// holding "$", a backquote or a line break.
func checkKernelEnv(k, v string) error {
	switch {
	case len(v) > maxKernelEnvValue:
		return usageErrorf("environment variable %s is %d characters long: the gateway accepts at most %d", k, len(v), maxKernelEnvValue)
	case strings.ContainsAny(v, "$`\n\r"):
		return usageErrorf("environment variable %s holds \"$\", a backquote or a line break, which the gateway refuses: remove them", k)
	case k == "KERNEL_LAUNCH_TIMEOUT":
		if secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil || secs <= 0 {
			return usageErrorf("environment variable KERNEL_LAUNCH_TIMEOUT=%q must be a positive number of seconds (or use --launch-timeout)", v)
		}
	}
	return nil
}

// userKernelEnv returns the KERNEL_* variables of the environment that are
// set and not empty.
func userKernelEnv() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "KERNEL_") && v != "" {
			env[k] = v
		}
	}
	return env
}

// startOptions are the kernel start options for a kernel analyst owns: the
// KERNEL_* variables mark it as analyst's so that `analyst kernels prune`
// can find it after a crash, name the user (KERNEL_USERNAME, which
// Enterprise Gateway authorizes) and bound the launch
// (KERNEL_LAUNCH_TIMEOUT); any KERNEL_* variable the user set is passed on
// (Enterprise Gateway reads several, e.g. KERNEL_NAMESPACE). A start queues
// for up to --queue-timeout while the gateway is at its kernel limit; once
// connect has run, it says so on connect's writer.
func (g *gatewayFlags) startOptions(label string) jupyter.StartOptions {
	env := map[string]string{
		envKernelUser:           kernelUsername(),
		"KERNEL_LAUNCH_TIMEOUT": strconv.Itoa(int(math.Ceil(g.launchTimeout.Seconds()))),
	}
	maps.Copy(env, userKernelEnv())
	env[envKernelOwner] = label // the mark prune looks for
	env[envKernelProcess] = ownerProcess()
	opts := jupyter.StartOptions{Name: g.kernel, Env: env, Queue: jupyter.Queue{Timeout: g.queueTimeout}}
	if w := g.notices; w != nil {
		opts.Queue.OnWait = func(msg string) { fmt.Fprintf(w, "analyst: %s\n", msg) }
	}
	return opts
}

const (
	envKernelUser  = "KERNEL_USERNAME"
	envKernelOwner = "KERNEL_ANALYST_RUN"
	// envKernelProcess names the process that owns the kernel,
	// "host:pid": prune leaves a kernel alone while its owner lives.
	envKernelProcess = "KERNEL_ANALYST_PROCESS"
	// keptLabel marks the kernels a person started with kernels start, to
	// keep: prune never deletes them.
	keptLabel = "kernels-start"
)

// ownerProcess is this process as a kernel's owner: "host:pid".
func ownerProcess() string {
	return proc.Host() + ":" + strconv.Itoa(os.Getpid())
}

// ownerAlive reports whether the process a kernel's mark names is alive.
// Only a process of this host can be checked; for one of another host
// (or a mark without one) prune goes by the kernel's connections alone.
func ownerAlive(owner string) bool {
	host, pidText, ok := strings.Cut(owner, ":")
	pid, err := strconv.Atoi(pidText)
	return ok && err == nil && host == proc.Host() && proc.Alive(pid)
}

// kernelUsername is KERNEL_USERNAME from the environment, else the login
// name.
func kernelUsername() string {
	if u := os.Getenv(envKernelUser); u != "" {
		return u
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "analyst"
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// isLoopback reports whether host is this machine: localhost or a loopback
// address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// runsDir is the directory, in a remote gateway's kernel directory, that
// holds each run's own directory.
const runsDir = "analyst-runs"

// dataDir says where a run's data files go in the kernel. A remote
// gateway's kernels get a directory of the run's own (returned), so that
// runs sharing the gateway never see or replace each other's files. The
// local gateway's kernels work in --workdir, the user's own folder: a data
// file is put there only if no different file of its name is there
// already, unless force.
func (g *gatewayFlags) dataDir(data []string, force bool, label string) (string, error) {
	if firstNonEmpty(g.url, os.Getenv(envGatewayURL)) != "" {
		return runsDir + "/" + label + "-" + time.Now().UTC().Format("20060102T150405Z") + "-" + randomHex(3), nil
	}
	workdir := g.workdir
	if workdir == "" {
		workdir = "."
	}
	for _, d := range data {
		there := filepath.Join(workdir, filepath.Base(d))
		same, err := sameContent(d, there)
		if err != nil || same || force {
			continue // absent (or unreadable: the upload says so)
		}
		return "", usageErrorf("--data %s: the kernel's working directory already has a different %s (%s): rename one, pass another --workdir, or --force to replace it", d, filepath.Base(d), there)
	}
	return "", nil
}

// sameContent reports whether the files a and b are the same file or hold
// the same bytes; an error when b cannot be read (it may not exist).
func sameContent(a, b string) (bool, error) {
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	if fa, err := os.Stat(a); err == nil && os.SameFile(fa, fb) {
		return true, nil
	}
	da, err := record.NewDataFile("a", a)
	if err != nil {
		return false, err
	}
	db, err := record.NewDataFile("b", b)
	if err != nil {
		return false, err
	}
	return da.SHA256 == db.SHA256, nil
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
