package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The gateway's command-line flags the deployment must carry, with exactly
// these values (the culling ones are the reference deployment's).
var wantFlags = map[string]string{
	"KernelGatewayApp.ip":                      "0.0.0.0",
	"KernelGatewayApp.port":                    "8888",
	"JupyterApp.answer_yes":                    "true",
	"JupyterWebsocketPersonality.list_kernels": "true",
	"MappingKernelManager.cull_idle_timeout":   "1800",
	"MappingKernelManager.cull_interval":       "300",
	"MappingKernelManager.cull_connected":      "False",
	"MappingKernelManager.cull_busy":           "False",
}

// The Python packages the image must install.
var wantPackages = []string{
	"jupyter_kernel_gateway", "ipykernel", "numpy", "pandas", "sympy",
	"scipy", "matplotlib", "xlrd", "openpyxl",
}

const (
	baseImage = "python:3.13-slim-bookworm"
	// tokenEnv is what analyst reads and what compose must require.
	tokenEnv = "JUPYTER_GATEWAY_AUTH_TOKEN"
	// gatewayTokenEnv is what Kernel Gateway reads its token from.
	gatewayTokenEnv = "KG_AUTH_TOKEN"
	healthURL       = "http://127.0.0.1:8888/api"
)

// repoRoot walks up from the test's working directory to the directory
// holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// --- Dockerfile ---------------------------------------------------------------

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string // the rest, trimmed
	line int    // where it starts, 1-based
}

// parseDockerfile splits a Dockerfile into instructions: comment lines
// (also those inside a continuation) are dropped, lines ending in a
// backslash are joined with the next.
func parseDockerfile(text string) []instruction {
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, " \t\r")
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont)
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(line)
		full := strings.TrimSpace(cur.String())
		cur.Reset()
		if full == "" {
			continue
		}
		cmd, args, _ := strings.Cut(full, " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
	}
	return out
}

func dockerfile(t *testing.T) []instruction {
	t.Helper()
	ins := parseDockerfile(readRepoFile(t, "Dockerfile.jupyter"))
	if len(ins) == 0 {
		t.Fatal("Dockerfile.jupyter has no instructions")
	}
	return ins
}

func find(ins []instruction, cmd string) []instruction {
	var out []instruction
	for _, in := range ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// execForm parses a JSON-array (exec form) argument list.
func execForm(t *testing.T, in instruction, args string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		t.Fatalf("line %d: %s is not in exec form (a JSON array): %v", in.line, in.cmd, err)
	}
	return argv
}

func TestDockerfileBaseImage(t *testing.T) {
	ins := dockerfile(t)
	froms := find(ins, "FROM")
	if len(froms) != 1 {
		t.Fatalf("want one FROM, got %d", len(froms))
	}
	if got := strings.Fields(froms[0].args); len(got) == 0 || got[0] != baseImage {
		t.Errorf("FROM %s, want %s", froms[0].args, baseImage)
	}
	if ins[0].cmd != "FROM" && ins[0].cmd != "ARG" {
		t.Errorf("first instruction is %s, want FROM", ins[0].cmd)
	}
	workdirs := find(ins, "WORKDIR")
	if len(workdirs) == 0 || workdirs[len(workdirs)-1].args != "/app" {
		t.Errorf("WORKDIR must end as /app (the mounted workspace), got %v", workdirs)
	}
	exposes := find(ins, "EXPOSE")
	if len(exposes) != 1 || exposes[0].args != "8888" {
		t.Errorf("want EXPOSE 8888, got %v", exposes)
	}
}

// normalizePackage gives a Python distribution name in its PEP 503 form.
func normalizePackage(name string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(name, "-"))
}

// requirement is one requirements.txt line: name and version specifier.
type requirement struct{ name, spec string }

var requirementRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$`)

func parseRequirements(t *testing.T, text string) map[string]requirement {
	t.Helper()
	out := map[string]requirement{}
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "-") {
			t.Errorf("requirements.txt:%d: option line %q: keep the file to plain requirements", i+1, line)
			continue
		}
		m := requirementRE.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("requirements.txt:%d: cannot parse %q", i+1, line)
			continue
		}
		out[normalizePackage(m[1])] = requirement{name: m[1], spec: strings.ReplaceAll(m[3], " ", "")}
	}
	return out
}

// TestPackagesInstalled follows the image's pip installs, through COPY to
// the requirements files they name, and checks every needed package is there.
func TestPackagesInstalled(t *testing.T) {
	ins := dockerfile(t)
	// COPY destinations back to their sources in the build context.
	copied := map[string]string{}
	for _, in := range find(ins, "COPY") {
		f := strings.Fields(in.args)
		var plain []string
		for _, a := range f {
			if !strings.HasPrefix(a, "--") {
				plain = append(plain, a)
			}
		}
		if len(plain) == 2 {
			copied[plain[1]] = plain[0]
		}
	}
	installed := map[string]requirement{}
	pipRuns := 0
	for _, in := range find(ins, "RUN") {
		for _, cmd := range regexp.MustCompile(`&&|;|\|\|`).Split(in.args, -1) {
			f := strings.Fields(cmd)
			i := slices.Index(f, "install")
			if i < 1 || !strings.HasSuffix(f[0], "pip") && !(slices.Contains(f[:i], "pip") && slices.Contains(f[:i], "-m")) {
				continue
			}
			pipRuns++
			if !slices.Contains(f, "--no-cache-dir") {
				t.Errorf("line %d: pip install without --no-cache-dir", in.line)
			}
			for j := i + 1; j < len(f); j++ {
				switch a := f[j]; {
				case a == "-r" || a == "--requirement":
					if j+1 == len(f) {
						t.Fatalf("line %d: %s without a file", in.line, a)
					}
					j++
					src, ok := copied[f[j]]
					if !ok {
						t.Fatalf("line %d: pip installs -r %s, which no COPY puts there", in.line, f[j])
					}
					for k, v := range parseRequirements(t, readRepoFile(t, src)) {
						installed[k] = v
					}
				case strings.HasPrefix(a, "-"):
				default:
					m := requirementRE.FindStringSubmatch(strings.Trim(a, `"'`))
					if m != nil {
						installed[normalizePackage(m[1])] = requirement{name: m[1], spec: m[3]}
					}
				}
			}
		}
	}
	if pipRuns == 0 {
		t.Fatal("no RUN pip install in Dockerfile.jupyter")
	}
	for _, p := range wantPackages {
		r, ok := installed[normalizePackage(p)]
		if !ok {
			t.Errorf("%s is not installed", p)
			continue
		}
		if !strings.HasPrefix(r.spec, "==") {
			t.Errorf("%s is not pinned (%q): pin it with == in requirements.txt for reproducible builds", p, r.spec)
		}
	}
}

// gatewayArgv is the container's command: ENTRYPOINT followed by CMD, both
// in exec form.
func gatewayArgv(t *testing.T) []string {
	t.Helper()
	ins := dockerfile(t)
	eps := find(ins, "ENTRYPOINT")
	if len(eps) == 0 {
		t.Fatal("no ENTRYPOINT")
	}
	argv := execForm(t, eps[len(eps)-1], eps[len(eps)-1].args)
	if cmds := find(ins, "CMD"); len(cmds) > 0 {
		argv = append(argv, execForm(t, cmds[len(cmds)-1], cmds[len(cmds)-1].args)...)
	}
	return argv
}

// gatewayScript splits the sh -c entrypoint into its script and the
// arguments the script receives as "$@".
func gatewayScript(t *testing.T) (script string, args []string) {
	t.Helper()
	argv := gatewayArgv(t)
	if len(argv) < 4 || argv[0] != "sh" || argv[1] != "-c" {
		t.Fatalf("want the command as sh -c SCRIPT NAME FLAGS..., got %q", argv)
	}
	return argv[2], argv[4:]
}

func flagMap(t *testing.T, args []string) map[string]string {
	t.Helper()
	flags := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !ok {
			t.Errorf("gateway argument %q is not --Class.trait=value", a)
			continue
		}
		if _, dup := flags[k]; dup {
			t.Errorf("gateway flag %s given twice", k)
		}
		flags[k] = v
	}
	return flags
}

func TestGatewayCommand(t *testing.T) {
	script, args := gatewayScript(t)
	if !strings.Contains(script, `exec python -m jupyter kernelgateway "$@"`) {
		t.Errorf("script does not exec the gateway with its arguments: %q", script)
	}
	if !strings.Contains(script, gatewayTokenEnv) {
		t.Errorf("script does not check %s: %q", gatewayTokenEnv, script)
	}
	flags := flagMap(t, args)
	for k, want := range wantFlags {
		if got, ok := flags[k]; !ok {
			t.Errorf("gateway flag --%s missing", k)
		} else if got != want {
			t.Errorf("--%s=%s, want %s", k, got, want)
		}
	}
	for k := range flags {
		if strings.Contains(strings.ToLower(k), "token") {
			t.Errorf("--%s: the token must come from %s, not the command line", k, gatewayTokenEnv)
		}
	}
}

// fakePython writes a python that prints its arguments, one a line, and
// returns the directory to put first on PATH.
func fakePython(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "python"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGatewayEntrypointRuns runs the image's entrypoint with sh and a
// stand-in python: it must refuse an empty token and otherwise hand the
// gateway exactly the flags, plus any extra arguments (compose's command:).
func TestGatewayEntrypointRuns(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh here")
	}
	argv := gatewayArgv(t)
	bin := fakePython(t)
	run := func(env []string, extra ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(sh, append(slices.Clone(argv[1:]), extra...)...)
		cmd.Env = append([]string{"PATH=" + bin + string(os.PathListSeparator) + "/usr/bin:/bin"}, env...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return o.String(), e.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), 0
	}

	for _, env := range [][]string{nil, {gatewayTokenEnv + "="}} {
		out, errOut, code := run(env)
		if code == 0 || out != "" {
			t.Errorf("env %q: the entrypoint started the gateway without a token (exit %d, out %q)", env, code, out)
		}
		if !strings.Contains(errOut, gatewayTokenEnv) {
			t.Errorf("env %q: the refusal does not name %s: %q", env, gatewayTokenEnv, errOut)
		}
	}

	const secret = "s3cret-token"
	extra := "--KernelGatewayApp.certfile=/certs/gateway.crt"
	out, errOut, code := run([]string{gatewayTokenEnv + "=" + secret}, extra)
	if code != 0 {
		t.Fatalf("entrypoint exit %d: %s", code, errOut)
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := append([]string{"-m", "jupyter", "kernelgateway"}, argv[4:]...)
	want = append(want, extra)
	if !slices.Equal(got, want) {
		t.Errorf("python ran with\n%q\nwant\n%q", got, want)
	}
	if strings.Contains(out, secret) {
		t.Error("the token is on the gateway's command line")
	}
}

func TestNoDefaultToken(t *testing.T) {
	for _, name := range []string{"Dockerfile.jupyter", "docker-compose.yml"} {
		if strings.Contains(readRepoFile(t, name), "UNSET") {
			t.Errorf("%s contains UNSET: there must be no default token", name)
		}
	}
	for _, in := range dockerfile(t) {
		if in.cmd != "ENV" && in.cmd != "ARG" {
			continue
		}
		for _, f := range strings.Fields(in.args) {
			k, _, _ := strings.Cut(f, "=")
			if strings.Contains(strings.ToUpper(k), "TOKEN") {
				t.Errorf("line %d: %s %s bakes a token into the image", in.line, in.cmd, k)
			}
		}
	}
}

func TestDockerfileHealthcheck(t *testing.T) {
	hcs := find(dockerfile(t), "HEALTHCHECK")
	if len(hcs) != 1 {
		t.Fatalf("want one HEALTHCHECK, got %d", len(hcs))
	}
	opts, cmd, ok := strings.Cut(hcs[0].args, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK without CMD: %q", hcs[0].args)
	}
	for _, o := range []string{"--interval=", "--timeout=", "--retries=", "--start-period="} {
		if !strings.Contains(opts, o) {
			t.Errorf("HEALTHCHECK without %s", o)
		}
	}
	argv := execForm(t, hcs[0], strings.TrimSpace(cmd))
	checkHealthArgv(t, "Dockerfile.jupyter", argv)
}

// checkHealthArgv checks a health check is python -c CODE probing /api with
// the token, then runs CODE against stand-in gateways when python3 is here.
func checkHealthArgv(t *testing.T, where string, argv []string) {
	t.Helper()
	if len(argv) != 3 || argv[0] != "python" || argv[1] != "-c" {
		t.Fatalf("%s: health check %q, want python -c CODE (slim images have no curl)", where, argv)
	}
	code := argv[2]
	if !strings.Contains(code, healthURL) {
		t.Fatalf("%s: health check does not probe %s: %q", where, healthURL, code)
	}
	if !strings.Contains(code, gatewayTokenEnv) {
		t.Errorf("%s: health check does not send %s (Kernel Gateway's /api needs the token)", where, gatewayTokenEnv)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Logf("%s: no python3 here: health check not run", where)
		return
	}
	const secret = "s3cret-token"
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "token "+secret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"reason":"Unauthorized","message":""}`)
			return
		}
		fmt.Fprint(w, `{"version":"2.14.2"}`)
	}))
	defer srv.Close()
	local := strings.Replace(code, strings.TrimSuffix(healthURL, "/api"), srv.URL, 1)
	for _, tc := range []struct {
		token  string
		wantOK bool
	}{{secret, true}, {"wrong", false}} {
		cmd := exec.Command(python, "-c", local)
		cmd.Env = append(os.Environ(), gatewayTokenEnv+"="+tc.token)
		out, err := cmd.CombinedOutput()
		if (err == nil) != tc.wantOK {
			t.Errorf("%s: health check with token %q: err %v, want ok=%v\n%s", where, tc.token, err, tc.wantOK, out)
		}
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%s: stand-in gateway got %d requests, want 2", where, n)
	}
}

func TestDockerfileUser(t *testing.T) {
	ins := dockerfile(t)
	users := find(ins, "USER")
	if len(users) == 0 {
		t.Fatal("no USER: the gateway would run as root")
	}
	user, _, _ := strings.Cut(users[len(users)-1].args, ":")
	if user == "" || user == "root" || user == "0" {
		t.Fatalf("USER %s: the gateway must not run as root", users[len(users)-1].args)
	}
	created := false
	for _, in := range find(ins, "RUN") {
		if regexp.MustCompile(`\b(useradd|adduser)\b.*\b` + regexp.QuoteMeta(user) + `\b`).MatchString(in.args) {
			created = true
		}
	}
	if !created {
		t.Errorf("USER %s is never created (useradd)", user)
	}
}

// --- .dockerignore -----------------------------------------------------------

// ignored reports whether .dockerignore patterns exclude path from the
// build context (simple patterns: the last match wins, ! re-includes).
func ignored(patterns []string, path string) bool {
	out := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if ok, _ := filepath.Match(strings.TrimPrefix(p, "/"), path); ok {
			out = !neg
		}
	}
	return out
}

func TestDockerignore(t *testing.T) {
	var patterns []string
	for _, l := range strings.Split(readRepoFile(t, ".dockerignore"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, in := range find(dockerfile(t), "COPY") {
		f := strings.Fields(in.args)
		for _, src := range f[:len(f)-1] {
			if !strings.HasPrefix(src, "--") && ignored(patterns, src) {
				t.Errorf("line %d: COPY %s, which .dockerignore leaves out of the context", in.line, src)
			}
		}
	}
	for _, p := range []string{".git", "workspace", "runs", "bin"} {
		if !ignored(patterns, p) {
			t.Errorf(".dockerignore sends %s to the build context", p)
		}
	}
}

// --- docker-compose.yml --------------------------------------------------------

// compose parses docker-compose.yml. (A named map type would be used for
// every nested mapping too: yaml.v3 decodes into the outer map's type.)
func compose(t *testing.T) map[string]any {
	t.Helper()
	var c map[string]any
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "docker-compose.yml")), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

func jupyterService(t *testing.T) map[string]any {
	t.Helper()
	services, _ := compose(t)["services"].(map[string]any)
	svc, ok := services["jupyter"].(map[string]any)
	if !ok {
		t.Fatal("docker-compose.yml has no service jupyter")
	}
	return svc
}

// interpolate resolves compose variables the way compose does with none set:
// ${VAR:-default} and ${VAR-default} give the default, ${VAR:?err} marks a
// required one, $$ is a dollar.
func interpolate(s string) string {
	s = strings.ReplaceAll(s, "$$", "\x00")
	s = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}`).ReplaceAllString(s, "$1")
	s = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}`).ReplaceAllString(s, "REQUIRED")
	return strings.ReplaceAll(s, "\x00", "$")
}

func TestComposeTopLevel(t *testing.T) {
	c := compose(t)
	if _, ok := c["version"]; ok {
		t.Error("docker-compose.yml has the obsolete version key")
	}
	svc := jupyterService(t)
	build, _ := svc["build"].(map[string]any)
	if build["context"] != "." || build["dockerfile"] != "Dockerfile.jupyter" {
		t.Errorf("build %v, want context . and dockerfile Dockerfile.jupyter", build)
	}
	if svc["image"] != "analyst-jupyter" {
		t.Errorf("image %v, want analyst-jupyter", svc["image"])
	}
	if svc["restart"] != "unless-stopped" {
		t.Errorf("restart %v, want unless-stopped", svc["restart"])
	}
	for _, k := range []string{"network_mode", "privileged", "command", "entrypoint"} {
		if v, ok := svc[k]; ok {
			t.Errorf("%s: %v: the gateway runs with the image's command on its own network, unprivileged", k, v)
		}
	}
	if u, ok := svc["user"].(string); ok {
		if name, _, _ := strings.Cut(interpolate(u), ":"); name == "root" || name == "0" {
			t.Errorf("user %s: the gateway must not run as root", u)
		}
	}
	nets, _ := svc["networks"].([]any)
	topNets, _ := c["networks"].(map[string]any)
	bridged := false
	for _, n := range nets {
		name, _ := n.(string)
		if def, _ := topNets[name].(map[string]any); def["driver"] == "bridge" {
			bridged = true
		}
	}
	if !bridged {
		t.Errorf("service networks %v: want one with driver bridge, defined %v", nets, topNets)
	}
}

func TestComposeTokenRequired(t *testing.T) {
	env := map[string]string{}
	switch e := jupyterService(t)["environment"].(type) {
	case map[string]any:
		for k, v := range e {
			env[k] = fmt.Sprint(v)
		}
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
			env[k] = v
		}
	}
	v, ok := env[gatewayTokenEnv]
	if !ok {
		t.Fatalf("environment has no %s", gatewayTokenEnv)
	}
	if !regexp.MustCompile(`^\$\{` + tokenEnv + `:\?[^}]+\}$`).MatchString(v) {
		t.Errorf("%s: %q, want ${%s:?message}: compose must refuse to start without the token", gatewayTokenEnv, v, tokenEnv)
	}
}

func TestComposePortOnLoopback(t *testing.T) {
	svc := jupyterService(t)
	if _, ok := svc["expose"]; ok {
		t.Error("expose: not needed, the port is published")
	}
	ports, _ := svc["ports"].([]any)
	if len(ports) != 1 {
		t.Fatalf("ports %v, want one", ports)
	}
	p, ok := ports[0].(string)
	if !ok {
		t.Fatalf("port %v: want the short syntax IP:HOST:CONTAINER", ports[0])
	}
	parts := strings.Split(interpolate(p), ":")
	if len(parts) != 3 {
		t.Fatalf("port %q: want IP:HOST:CONTAINER", p)
	}
	if parts[0] != "127.0.0.1" {
		t.Errorf("port %q published on %q, want 127.0.0.1 (plain http must stay on loopback)", p, parts[0])
	}
	if parts[1] != "8888" {
		t.Errorf("port %q: host port %q by default, want 8888", p, parts[1])
	}
	if c := strings.TrimSuffix(parts[2], "/tcp"); c != "8888" {
		t.Errorf("port %q maps to container port %q, want 8888", p, c)
	}
}

func TestComposeWorkspaceMount(t *testing.T) {
	vols, _ := jupyterService(t)["volumes"].([]any)
	mounted := false
	for _, v := range vols {
		switch v := v.(type) {
		case string:
			f := strings.Split(v, ":")
			if len(f) >= 2 && f[0] == "./workspace" && f[1] == "/app" && (len(f) == 2 || f[2] == "rw") {
				mounted = true
			}
		case map[string]any:
			if v["source"] == "./workspace" && v["target"] == "/app" && v["read_only"] != true {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("volumes %v: want ./workspace mounted read-write at /app", vols)
	}
	// The directory must exist in the repository: a missing one would be
	// created by Docker, owned by root and not writable by the gateway.
	if _, err := os.Stat(filepath.Join(repoRoot(t), "workspace", ".gitkeep")); err != nil {
		t.Error(err)
	}
}

func TestComposeHealthcheck(t *testing.T) {
	hc, _ := jupyterService(t)["healthcheck"].(map[string]any)
	if hc == nil {
		t.Fatal("no healthcheck")
	}
	for _, k := range []string{"interval", "timeout", "retries", "start_period"} {
		if _, ok := hc[k]; !ok {
			t.Errorf("healthcheck without %s", k)
		}
	}
	test, _ := hc["test"].([]any)
	if len(test) < 2 || test[0] != "CMD" {
		t.Fatalf("healthcheck test %v, want [CMD, ...]", hc["test"])
	}
	var argv []string
	for _, a := range test[1:] {
		s, ok := a.(string)
		if !ok {
			t.Fatalf("healthcheck argument %v is not a string", a)
		}
		// compose interpolates $VAR in the file: a lone $ would be eaten.
		if strings.Contains(strings.ReplaceAll(s, "$$", ""), "$") {
			t.Errorf("healthcheck argument %q has a $ compose would interpolate", s)
		}
		argv = append(argv, interpolate(s))
	}
	checkHealthArgv(t, "docker-compose.yml", argv)
}
