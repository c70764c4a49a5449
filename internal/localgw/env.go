package localgw

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The variables a kernel gets from the machine, as Kernel Gateway's
// KG_ENV_PROCESS_WHITELIST would pass them: what Python, its numeric
// libraries and Jupyter need to run, nothing else. API keys, tokens,
// JUPYTER_GATEWAY_* and the rest of the user's environment stay out, since
// the code the LLM writes runs in the kernel. Options.PassEnv adds names on
// purpose.
var (
	allowedNames = []string{
		"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
		// Where Jupyter and IPython find their kernel specs and settings.
		"JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_PATH", "JUPYTER_PLATFORM_DIRS", "IPYTHONDIR",
	}
	allowedPrefixes = []string{"LC_", "PYTHON", "MPL", "OMP_", "OPENBLAS_", "MKL_"}
)

// allowed reports whether the variable called name reaches the kernels
// without being asked for.
func allowed(name string) bool {
	if slices.Contains(allowedNames, name) {
		return true
	}
	for _, p := range allowedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// serverEnv returns the environment of the server process, which its
// kernels inherit (Jupyter Server passes its own environment to every
// kernel): the allowed variables of environ, those named in pass, and
// extra.
func serverEnv(environ, pass, extra []string) []string {
	var env []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if allowed(name) || slices.Contains(pass, name) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// names returns the names of the variables of env.
func names(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		out = append(out, name)
	}
	return out
}

// writeConfig writes the server's token to a configuration file only the
// user can read, where the server reads it at start: not in its environment,
// which kernels inherit, nor on its command line, which every user of the
// machine sees. Each kind of server reads its own section.
func writeConfig(path, token string) error {
	b, err := json.Marshal(map[string]map[string]string{
		"ServerApp":        {"token": token}, // Jupyter Server 1.x
		"IdentityProvider": {"token": token}, // Jupyter Server 2.x
		"KernelGatewayApp": {"auth_token": token},
	})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// removeTokenFiles removes, once the server runs, the files in its runtime
// directory that hold its token: the configuration file, and Jupyter
// Server's jpserver-PID.json and jpserver-PID-open.html. Kernels keep their
// connection files there and know the directory.
func removeTokenFiles(runtimeDir, config string) {
	os.Remove(config)
	for _, pattern := range []string{"jpserver-*.json", "jpserver-*-open.html"} {
		files, _ := filepath.Glob(filepath.Join(runtimeDir, pattern))
		for _, f := range files {
			os.Remove(f)
		}
	}
}
