package jupytertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/localgw"
)

// Kind names a server the tests can run against.
type Kind string

// The servers the tests can run against.
const (
	// JupyterServer is Debian's Jupyter Server (1.23), the default.
	JupyterServer Kind = "server"
	// KG3 is Kernel Gateway 3.0.1 on jupyter_server 2.x, from
	// ../shared/gateways/kg3.
	KG3 Kind = "kg3"
	// KG2 is Kernel Gateway 2.5.2 on notebook 6.4, from
	// ../shared/gateways/kg2.
	KG2 Kind = "kg2"
)

// KindEnv is the environment variable that selects the Kind of server
// [Start], [StartTLS], [Launch] and [Pool] start.
const KindEnv = "ANALYST_TEST_SERVER"

// GatewaysEnv is the environment variable that names the folder holding the
// Kernel Gateways (kg3/, kg2/) when it is not ../shared/gateways beside the
// repository (or beside one of its parent folders).
const GatewaysEnv = "ANALYST_GATEWAYS_DIR"

// Selected returns the Kind that KindEnv selects: JupyterServer when it is
// unset.
func Selected() (Kind, error) {
	k, err := ParseKind(os.Getenv(KindEnv))
	if err != nil {
		return "", fmt.Errorf("%s=%w", KindEnv, err)
	}
	return k, nil
}

// ParseKind returns the Kind that s names: JupyterServer when it is empty.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case "", JupyterServer:
		return JupyterServer, nil
	case KG3, KG2:
		return k, nil
	default:
		return "", fmt.Errorf("%q: want %q, %q or %q", s, string(JupyterServer), string(KG3), string(KG2))
	}
}

// String names the server for people.
func (k Kind) String() string {
	switch k {
	case KG3:
		return "Kernel Gateway 3"
	case KG2:
		return "Kernel Gateway 2"
	}
	return "Jupyter Server"
}

// Python is the interpreter that has the Debian Jupyter packages.
const Python = "/usr/bin/python3"

// Packages names the Debian packages a real server needs.
const Packages = "python3-jupyter-server python3-ipykernel python3-pandas python3-matplotlib python3-nbformat"

// readyTimeout bounds the wait for a new server to answer GET /api.
const readyTimeout = 60 * time.Second

// Server is a running Jupyter server.
type Server struct {
	Kind  Kind   // which server it is
	URL   string // http://127.0.0.1:PORT (https with StartTLS), without the token
	Token string // the server's token
	Dir   string // the server's root_dir: kernels start here
	// CACert is the PEM file of the self-signed certificate a StartTLS
	// server uses; "" for plain http.
	CACert string

	gw         *localgw.Gateway
	logf       *os.File // the server writes its log here until Stop
	logPath    string
	dataDir    string // JUPYTER_DATA_DIR: kernels/ holds the specs AddPortClashSpec adds
	runtimeDir string // JUPYTER_RUNTIME_DIR: the kernels' connection files
}

// errMissing reports that the server is not installed.
type errMissing struct {
	kind   Kind
	detail string
}

func (e errMissing) Error() string {
	if e.kind != JupyterServer {
		return fmt.Sprintf("%s is not available (%s); it runs from ../shared/gateways beside the repository (or %s) after its ./setup", e.kind, e.detail, GatewaysEnv)
	}
	return fmt.Sprintf("Jupyter Server is not installed (%s); install the Debian packages: apt-get install %s", e.detail, Packages)
}

// Start starts a Jupyter Server for the test on a free port, with a random
// token and root_dir a new temporary directory, and waits until it answers.
// Cleanup stops it and its kernels. Without Jupyter the test is skipped, or
// fails when the environment has CI=true.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartKind(tb, selected(tb))
}

// StartKind is Start with the given Kind of server, whatever KindEnv says.
func StartKind(tb testing.TB, kind Kind) *Server {
	tb.Helper()
	s, err := start(tb.TempDir(), kind, false)
	if err != nil {
		fail(tb, err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Launch starts a server whose files live under dir, for programs that are
// not tests (benchmarks). The caller must Stop it. The error says which
// Debian packages to install when Jupyter is missing.
func Launch(dir string) (*Server, error) {
	kind, err := Selected()
	if err != nil {
		return nil, err
	}
	return LaunchKind(dir, kind)
}

// LaunchKind is Launch with the given Kind of server, whatever KindEnv says.
func LaunchKind(dir string, kind Kind) (*Server, error) { return start(dir, kind, false) }

// selected is Selected for a test: a bad KindEnv fails it.
func selected(tb testing.TB) Kind {
	tb.Helper()
	kind, err := Selected()
	if err != nil {
		tb.Fatal(err)
	}
	return kind
}

// StartTLS is Start with https and wss: the server uses a new self-signed
// certificate for 127.0.0.1, whose PEM file is Server.CACert.
func StartTLS(tb testing.TB) *Server {
	tb.Helper()
	s, err := start(tb.TempDir(), selected(tb), true)
	if err != nil {
		fail(tb, err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// fail skips on a missing Jupyter (outside CI) and fails otherwise.
func fail(tb testing.TB, err error) {
	tb.Helper()
	var m errMissing
	if errors.As(err, &m) && os.Getenv("CI") != "true" {
		tb.Skip(err.Error())
	}
	tb.Fatal(err)
}

// start starts a server whose files live under dir: its root, its
// connection files, and its own configuration, data and IPython
// directories, so that nothing of the machine's own Jupyter set-up leaks in.
func start(dir string, kind Kind, withTLS bool) (*Server, error) {
	imports, launcher := "import jupyter_server, ipykernel", ""
	if kind != JupyterServer {
		gws, err := GatewaysDir()
		if err != nil {
			return nil, errMissing{kind: kind, detail: err.Error()}
		}
		launcher = filepath.Join(gws, string(kind), "run")
		if _, err := os.Stat(launcher); err != nil {
			return nil, errMissing{kind: kind, detail: err.Error()}
		}
		imports = "import zmq, ipykernel"
		if kind == KG2 {
			imports = "import notebook, ipykernel"
		}
	}
	if out, err := exec.Command(Python, "-c", imports).CombinedOutput(); err != nil {
		return nil, errMissing{kind: kind, detail: oneLine(string(out), err)}
	}
	s := &Server{Kind: kind, Dir: filepath.Join(dir, "root"), logPath: filepath.Join(dir, "server.log"),
		dataDir: filepath.Join(dir, "data"), runtimeDir: filepath.Join(dir, "runtime")}
	for _, d := range []string{"root", "runtime", "config", "data", "ipython"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	// The file stays open while the server runs: a server whose output
	// pipe breaks stops logging, and Kernel Gateway 2 stops serving.
	var err error
	s.logf, err = os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	var certFile, keyFile string
	if withTLS {
		certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := selfSigned(certFile, keyFile); err != nil {
			return nil, err
		}
		s.CACert = certFile
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	s.gw, err = localgw.Start(ctx, localgw.Options{
		CertFile:      certFile,
		KeyFile:       keyFile,
		Workdir:       s.Dir,
		Pythons:       []string{Python},
		ServerOnly:    kind == JupyterServer,
		KernelGateway: launcher,
		RuntimeDir:    s.runtimeDir,
		ReadyTimeout:  readyTimeout,
		Log:           s.logf,
		Env: []string{
			"JUPYTER_CONFIG_DIR=" + filepath.Join(dir, "config"),
			"JUPYTER_DATA_DIR=" + filepath.Join(dir, "data"),
			"IPYTHONDIR=" + filepath.Join(dir, "ipython"),
			"JUPYTER_PLATFORM_DIRS=1",
			"PYTHONUNBUFFERED=1",
			"PYDEVD_DISABLE_FILE_VALIDATION=1",
		},
	})
	if err != nil {
		s.logf.Close()
		return nil, fmt.Errorf("%w\nserver log:\n%s", err, s.logTail())
	}
	s.URL, s.Token = s.gw.URL, s.gw.Token
	return s, nil
}

// GatewaysDir returns the folder that holds the Kernel Gateways (kg3/,
// kg2/): GatewaysEnv if set, else the first shared/gateways found beside
// the repository (the module's root, found from the current directory) or
// beside one of its parents.
func GatewaysDir() (string, error) {
	if d := os.Getenv(GatewaysEnv); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
		root = parent
	}
	for d := filepath.Dir(root); ; d = filepath.Dir(d) {
		gws := filepath.Join(d, "shared", "gateways")
		if fi, err := os.Stat(gws); err == nil && fi.IsDir() {
			return gws, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no shared/gateways beside %s or its parents", root)
		}
	}
}

// logTail returns the end of the server's log.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// KernelCount returns how many kernels the server runs (GET /api/kernels).
func (s *Server) KernelCount(tb testing.TB) int {
	tb.Helper()
	ids, err := s.kernelIDs()
	if err != nil {
		tb.Fatalf("count kernels: %v", err)
	}
	return len(ids)
}

// kernelIDs lists the server's kernels.
func (s *Server) kernelIDs() ([]string, error) {
	var ks []struct {
		ID string `json:"id"`
	}
	resp, err := s.request(http.MethodGet, "/api/kernels")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/kernels: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&ks); err != nil {
		return nil, err
	}
	ids := make([]string, len(ks))
	for i, k := range ks {
		ids[i] = k.ID
	}
	return ids, nil
}

// request sends an authenticated request with a short timeout.
func (s *Server) request(method, path string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Authorization", "token "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

// cancelOnClose releases a request's context when its body is closed.
type cancelOnClose struct {
	body   io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Read(p []byte) (int, error) { return c.body.Read(p) }
func (c cancelOnClose) Close() error {
	err := c.body.Close()
	c.cancel()
	return err
}

// Stop deletes the server's kernels, stops the server and kills any kernel
// left behind. It is safe to call more than once.
func (s *Server) Stop() {
	s.gw.Stop()
	s.logf.Close()
}

// oneLine summarises a failed command.
func oneLine(out string, err error) string {
	out = strings.TrimSpace(out)
	if i := strings.LastIndex(out, "\n"); i >= 0 {
		out = out[i+1:]
	}
	if out == "" {
		return err.Error()
	}
	return out
}

// Pool shares one server among the tests of a test binary. The zero value
// is ready to use; call Close from TestMain after m.Run:
//
//	var servers jupytertest.Pool
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		servers.Close()
//		os.Exit(code)
//	}
type Pool struct {
	mu  sync.Mutex
	srv *Server
	err error
	dir string
}

// Server returns the pool's server, starting it on first use. Tests that
// use it must delete the kernels they start.
func (p *Pool) Server(tb testing.TB) *Server {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil && p.err == nil {
		dir, err := os.MkdirTemp("", "jupytertest")
		if err != nil {
			tb.Fatal(err)
		}
		p.dir = dir
		kind, err := Selected()
		if err != nil {
			tb.Fatal(err)
		}
		p.srv, p.err = start(dir, kind, false)
	}
	if p.err != nil {
		fail(tb, p.err)
	}
	return p.srv
}

// Close stops the pool's server, if it started one, and removes its files.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		p.srv.Stop()
		p.srv = nil
	}
	if p.dir != "" {
		_ = os.RemoveAll(p.dir)
		p.dir = ""
	}
}

// Log returns the end of the server's log, for diagnosing a failed test.
func (s *Server) Log() string { return s.logTail() }

// LogAbout returns the last 40 lines of the server's log that mention
// what (such as a kernel id), for diagnosing a failed test on a server
// other tests share.
func (s *Server) LogAbout(what string) string {
	b, _ := os.ReadFile(s.logPath)
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, what) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(len(lines)-40, 0):], "\n")
}

// selfSigned writes a new self-signed certificate for 127.0.0.1 and
// localhost, and its key, as PEM files.
func selfSigned(certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "jupytertest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}
