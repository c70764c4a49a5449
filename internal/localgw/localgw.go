package localgw

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Culling flags from the reference deployment: idle kernels are shut down
// after 30 minutes, checked every 5; busy ones never. They are the safety net
// for kernels whose client vanished.
var cullFlags = []string{
	"--MappingKernelManager.cull_idle_timeout=1800",
	"--MappingKernelManager.cull_interval=300",
	"--MappingKernelManager.cull_connected=False",
	"--MappingKernelManager.cull_busy=False",
}

// ErrNotInstalled means no Jupyter server could be found on this machine.
var ErrNotInstalled = errors.New("no Jupyter installed here")

// Options say how to start the gateway.
type Options struct {
	// Workdir is the kernels' working directory; the current one when empty.
	Workdir string
	// IP to listen on; 127.0.0.1 when empty.
	IP string
	// Port to listen on; a free one when zero.
	Port int
	// Token the clients must send; a random one when empty.
	Token string
	// ReadyTimeout bounds the wait for the server to answer; 60s when zero.
	ReadyTimeout time.Duration
	// Log receives the server's own output; discarded when nil (the last
	// lines are kept for errors either way).
	Log *os.File
	// Pythons are the interpreters tried for Jupyter Server, in order; the
	// system's when nil.
	Pythons []string
	// ServerOnly uses Jupyter Server even where Kernel Gateway is installed.
	ServerOnly bool
	// KernelGateway, when set, is the Kernel Gateway to start: a program
	// taking the gateway's flags, such as jupyter-kernelgateway or a
	// wrapper script. When empty, jupyter-kernelgateway is looked up on
	// PATH.
	KernelGateway string
	// RuntimeDir is where the server keeps its kernels' connection files; a
	// new temporary directory, removed by Stop, when empty. Stop kills any
	// kernel process still naming it.
	RuntimeDir string
	// Env is added to the server's environment, and so to its kernels'.
	Env []string
	// PassEnv names variables of this process's environment that the
	// kernels get on purpose (a database URL the analysis needs). Otherwise
	// the server and its kernels get only the variables Python and Jupyter
	// need to run (PATH, HOME, LANG, LC_*, TZ, TMPDIR, PYTHON*, MPL*, OMP_*,
	// OPENBLAS_*, MKL_*, Jupyter's own directories): no API key, no token.
	PassEnv []string
	// CertFile and KeyFile, when set, make the server speak https (and wss)
	// with that certificate and key, for a gateway other machines reach.
	CertFile, KeyFile string
}

// Gateway is a running local gateway.
type Gateway struct {
	// URL is the gateway's base URL, without the token.
	URL string
	// Token is the token clients must send.
	Token string
	// Kind is "Jupyter Kernel Gateway" or "Jupyter Server".
	Kind string
	// Version is the version of Kind: Kernel Gateway's own, from the line it
	// logs when it starts serving; Jupyter Server's from GET /api.
	Version string
	// APIVersion is what GET /api reports: for Kernel Gateway the version of
	// the server it runs on (jupyter_server from 3.0, notebook before).
	APIVersion string
	// Addr is host:port.
	Addr string

	cmd        *exec.Cmd
	exited     chan struct{}
	tail       *tailBuffer
	banner     *bannerWatch // Kernel Gateway's start line, nil for Jupyter Server
	once       sync.Once
	runtimeDir string
	ownRuntime bool     // the runtime dir is ours to remove
	stale      []string // runtime dirs of killed analysts, removed at start
}

// kindKG is the Kind of a Kernel Gateway.
const kindKG = "Jupyter Kernel Gateway"

// server is how to launch one kind of server.
type server struct {
	kind string
	argv []string
}

// find looks for Kernel Gateway, then for a Python with jupyter_server.
func find(ctx context.Context, ip string, port int, dir string, opts Options) (server, error) {
	p := strconv.Itoa(port)
	pys, serverOnly := opts.Pythons, opts.ServerOnly
	kg := opts.KernelGateway
	if kg == "" && !serverOnly {
		kg, _ = exec.LookPath("jupyter-kernelgateway")
	}
	if kg != "" && !serverOnly {
		argv := append([]string{kg,
			"--KernelGatewayApp.ip=" + ip,
			"--KernelGatewayApp.port=" + p,
			"--KernelGatewayApp.port_retries=0",
			"--JupyterWebsocketPersonality.list_kernels=True",
			"--JupyterApp.answer_yes=True",
		}, cullFlags...)
		if opts.CertFile != "" {
			argv = append(argv, "--KernelGatewayApp.certfile="+opts.CertFile, "--KernelGatewayApp.keyfile="+opts.KeyFile)
		}
		return server{kind: kindKG, argv: argv}, nil
	}
	if pys == nil {
		pys = pythons()
	}
	for _, py := range pys {
		if exec.CommandContext(ctx, py, "-c", "import jupyter_server, ipykernel").Run() != nil {
			continue
		}
		argv := []string{py, "-m", "jupyter_server",
			"--ServerApp.ip=" + ip,
			"--ServerApp.port=" + p,
			"--ServerApp.port_retries=0",
			"--ServerApp.open_browser=False",
			"--ServerApp.root_dir=" + dir,
		}
		if os.Geteuid() == 0 {
			argv = append(argv, "--allow-root")
		}
		argv = append(argv, cullFlags...)
		if opts.CertFile != "" {
			argv = append(argv, "--ServerApp.certfile="+opts.CertFile, "--ServerApp.keyfile="+opts.KeyFile)
		}
		return server{kind: "Jupyter Server", argv: argv}, nil
	}
	return server{}, ErrNotInstalled
}

// pythons lists the interpreters worth trying: the system's first, since
// Debian's Jupyter packages install there and a python3 earlier on PATH may
// be another interpreter without them.
func pythons() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range []string{"/usr/bin/python3", "python3", "python"} {
		p, err := exec.LookPath(c)
		if err != nil || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// Start launches the gateway and waits until it answers GET /api.
//
// The server and its kernels get an allow-listed environment (see
// Options.PassEnv), the token reaches the server through a file removed
// once it runs, and, on Linux, this process is made non-dumpable so that
// kernels running as the same user cannot read its environment or memory.
// Without Options.RuntimeDir, the runtime directories that earlier
// Gateways of killed analysts left in the temporary directory are removed
// first (see Gateway.Cleaned).
func Start(ctx context.Context, opts Options) (*Gateway, error) {
	ip := opts.IP
	if ip == "" {
		ip = "127.0.0.1"
	}
	dir := opts.Workdir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		dir = wd
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("workdir %s is not a directory", dir)
	}
	// The server runs in dir and resolves its root_dir from there.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	token := opts.Token
	if token == "" {
		token = randomToken()
	}
	hideProcess()
	var stale []string
	if opts.RuntimeDir == "" {
		stale = removeStale(os.TempDir())
	}
	// A free port can be taken by someone else before the server binds it:
	// then the server exits at start, and another port is tried.
	attempts := 1
	if opts.Port == 0 {
		attempts = 3
	}
	for i := 1; ; i++ {
		g, err := launch(ctx, opts, ip, token, dir)
		if err == nil {
			g.stale = stale
		}
		if err == nil || !errors.Is(err, errExited) || i == attempts {
			return g, err
		}
	}
}

// errExited marks a server that exited before it was ready.
var errExited = errors.New("exited at start")

// launch starts one server process and waits until it answers.
func launch(ctx context.Context, opts Options, ip, token, dir string) (*Gateway, error) {
	port := opts.Port
	if port == 0 {
		p, err := freePort(ip)
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		port = p
	}
	srv, err := find(ctx, ip, port, dir, opts)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	scheme := "http"
	if opts.CertFile != "" {
		scheme = "https"
	}
	g := &Gateway{
		URL:        scheme + "://" + addr,
		Token:      token,
		Kind:       srv.kind,
		Addr:       addr,
		exited:     make(chan struct{}),
		tail:       &tailBuffer{max: 4096},
		runtimeDir: opts.RuntimeDir,
	}
	if srv.kind == kindKG {
		g.banner = newBannerWatch()
	}
	if g.runtimeDir == "" {
		if g.runtimeDir, err = newRuntimeDir(); err != nil {
			return nil, err
		}
		g.ownRuntime = true
	}
	config := filepath.Join(g.runtimeDir, "analyst-server-config.json")
	if err := writeConfig(config, token); err != nil {
		g.removeRuntime()
		return nil, fmt.Errorf("start %s: %w", srv.kind, err)
	}
	cmd := g.command(srv, opts, dir, config)
	if err := cmd.Start(); err != nil {
		g.removeRuntime()
		return nil, fmt.Errorf("start %s: %w", srv.kind, err)
	}
	g.cmd = cmd
	go func() {
		cmd.Wait()
		close(g.exited)
	}()
	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	err = g.waitReady(ctx, timeout)
	removeTokenFiles(g.runtimeDir, config)
	if err != nil {
		g.Stop()
		return nil, err
	}
	return g, nil
}

// command is the process of srv, not started: in dir, reading the config
// file config, given only the environment its kernels may see, its output
// kept in g's tail (and watched for Kernel Gateway's banner) and copied to
// opts.Log.
func (g *Gateway) command(srv server, opts Options, dir, config string) *exec.Cmd {
	// Not CommandContext: the gateway must outlive a cancelled ctx long
	// enough for its kernels to be deleted; Stop ends it.
	cmd := exec.Command(srv.argv[0], append(slices.Clip(srv.argv[1:]), "--config="+config)...)
	cmd.Dir = dir
	// Kernels inherit the server's environment, so the server gets only
	// what they may see. Kernel Gateway passes a kernel no more than its
	// whitelist when the start request carries an environment: the same.
	cmd.Env = serverEnv(os.Environ(), opts.PassEnv, append(slices.Clip(opts.Env), "JUPYTER_RUNTIME_DIR="+g.runtimeDir))
	if srv.kind == kindKG {
		cmd.Env = append(cmd.Env, "KG_ENV_PROCESS_WHITELIST="+strings.Join(names(cmd.Env), ","))
	}
	cmd.SysProcAttr = sysProcAttr()
	var out io.Writer = g.tail
	if g.banner != nil {
		out = io.MultiWriter(g.tail, g.banner)
	}
	if opts.Log != nil {
		out = multiWriter(opts.Log, out)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// A kernel in a session of its own inherits the output pipe; one stuck
	// at start (see internal/kernel's launch) holds it open after the
	// server is gone. Wait lets go of it rather than wait for the kernel:
	// Stop kills the kernel after.
	cmd.WaitDelay = stopWait
	return cmd
}

func (g *Gateway) removeRuntime() {
	if g.ownRuntime {
		os.RemoveAll(g.runtimeDir)
	}
}

// waitReady polls GET /api until the server answers, it exits, or time runs
// out.
func (g *Gateway) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// The token must be accepted: a server that answers GET /api alone
		// may be another one that took the free port first (ours then exits
		// and the port is tried again).
		if v, err := g.version(ctx); err == nil && g.call(ctx, http.MethodGet, "/api/kernelspecs", nil) == nil {
			g.APIVersion, g.Version = v, v
			if g.banner != nil {
				return g.readBanner(ctx)
			}
			return nil
		}
		select {
		case <-g.exited:
			return fmt.Errorf("%s %w: %s", g.Kind, errExited, g.tail.lastLine())
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer on %s within %s: %s", g.Kind, g.Addr, timeout, g.tail.lastLine())
		case <-tick.C:
		}
	}
}

func (g *Gateway) version(ctx context.Context) (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	err := g.call(ctx, http.MethodGet, "/api", &v)
	return v.Version, err
}

func (g *Gateway) call(ctx context.Context, method, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, g.URL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+g.Token)
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// probeClient talks to the server this package started, on this machine:
// it does not verify a certificate it was itself given (the clients of the
// gateway do).
var probeClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// bannerWait bounds the wait for Kernel Gateway's start line once it
// answers: the line is written before it serves, so it is normally in the
// pipe already.
const bannerWait = 5 * time.Second

// readBanner takes Kernel Gateway's version from the line it logs when it
// starts serving ("Jupyter Kernel Gateway 3.0.1 is available at ..."): GET
// /api gives the version of the server underneath.
func (g *Gateway) readBanner(ctx context.Context) error {
	t := time.NewTimer(bannerWait)
	defer t.Stop()
	select {
	case <-g.banner.found:
		g.Version = g.banner.version
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return fmt.Errorf("%s answers on %s but did not log its version: %s", g.Kind, g.Addr, g.tail.lastLine())
}

// Describe is the one line that tells the user what was started: "local
// Jupyter Server 1.23.3 on 127.0.0.1:41877, stopped on exit", or for Kernel
// Gateway, with the server it runs on, "local Jupyter Kernel Gateway 3.0.1
// (jupyter_server 2.20.0) on 127.0.0.1:41877, stopped on exit".
func (g *Gateway) Describe() string {
	name := g.Kind + " " + g.Version
	if g.Kind == kindKG {
		name += fmt.Sprintf(" (%s %s)", underKG(g.Version), g.APIVersion)
	}
	return fmt.Sprintf("local %s on %s, stopped on exit", name, g.Addr)
}

// Cleaned is the line that says which runtime directories of local gateways
// whose analyst was killed (kill -9 leaves them, with their cookie secret)
// Start removed, "" when it removed none. Start removes those of this user
// whose owning process is gone, never a running analyst's.
func (g *Gateway) Cleaned() string { return staleNotice(g.stale) }

// underKG names the server a Kernel Gateway version runs on: jupyter_server
// from 3.0, notebook before.
func underKG(version string) string {
	major, _, _ := strings.Cut(version, ".")
	if n, err := strconv.Atoi(major); err == nil && n < 3 {
		return "notebook"
	}
	return "jupyter_server"
}

// kgBanner matches the line Kernel Gateway (2.x and 3.x) logs when it
// starts serving.
var kgBanner = regexp.MustCompile(`Jupyter Kernel Gateway (\d+\.\d+\S*) is available at`)

// bannerWatch scans the server's output for kgBanner.
type bannerWatch struct {
	mu      sync.Mutex
	line    []byte // the current, unfinished line
	version string
	found   chan struct{} // closed once version is set
}

func newBannerWatch() *bannerWatch { return &bannerWatch{found: make(chan struct{})} }

func (b *bannerWatch) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.version != "" {
		return len(p), nil
	}
	b.line = append(b.line, p...)
	for {
		i := bytes.IndexByte(b.line, '\n')
		if i < 0 {
			break
		}
		if m := kgBanner.FindSubmatch(b.line[:i]); m != nil {
			b.version = string(m[1])
			b.line = nil
			close(b.found)
			return len(p), nil
		}
		b.line = b.line[i+1:]
	}
	if len(b.line) > 64<<10 {
		b.line = b.line[len(b.line)-(64<<10):] // no newline for long: keep the tail
	}
	return len(p), nil
}

// stopWait is how long the server gets to shut down after SIGTERM before it
// and its kernels are killed.
const stopWait = 5 * time.Second

// Stop deletes the gateway's kernels, stops it, and kills what is left of its
// process group. It is safe to call more than once.
func (g *Gateway) Stop() error {
	g.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopWait)
		defer cancel()
		var ks []struct {
			ID string `json:"id"`
		}
		if g.call(ctx, http.MethodGet, "/api/kernels", &ks) == nil {
			for _, k := range ks {
				g.call(ctx, http.MethodDelete, "/api/kernels/"+k.ID, nil)
			}
		}
		signalGroup(g.cmd, syscall.SIGTERM)
		select {
		case <-g.exited:
		case <-time.After(stopWait):
		}
		// Whatever is left of the group, and any kernel still running from
		// the server's runtime directory (kernels run in sessions of their
		// own), goes too.
		signalGroup(g.cmd, syscall.SIGKILL)
		<-g.exited
		killStrays(g.runtimeDir)
		g.removeRuntime()
	})
	return nil
}

// Exited is closed when the server process has ended.
func (g *Gateway) Exited() <-chan struct{} { return g.exited }

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last bytes the server wrote, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

// lastLine is the last non-empty line the server wrote.
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(t.buf, nil))), "\n")
	s := strings.TrimSpace(lines[len(lines)-1])
	if s == "" {
		return "(no output)"
	}
	return s
}
