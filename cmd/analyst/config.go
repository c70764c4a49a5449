package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/human"
)

// envConfigHome is where the config file lives, as the XDG Base Directory
// specification says; without it, ~/.config.
const envConfigHome = "XDG_CONFIG_HOME"

// fileConfig is the config file: defaults a person would otherwise type on
// every command line. Flags and environment variables override it. It holds
// no secrets: the API key and the gateway token stay in the environment.
type fileConfig struct {
	// Model is the model of every agent (--model).
	Model string `yaml:"model"`
	// Models are per-agent models (--planner-model, --writer-model).
	Models struct {
		Planner string `yaml:"planner"`
		Writer  string `yaml:"writer"`
	} `yaml:"models"`
	// GatewayURL is the Jupyter gateway (--gateway-url).
	GatewayURL string `yaml:"gateway_url"`
	// Prices are USD per million tokens (--price-in, --price-out).
	Prices struct {
		In  *float64 `yaml:"in"`
		Out *float64 `yaml:"out"`
	} `yaml:"prices"`
	// ContextBudget is the most tokens of each LLM prompt (--context-budget).
	ContextBudget int `yaml:"context_budget"`
}

// secretKeys are keys a person might put in the config file that belong in
// the environment, with the variable to use instead.
var secretKeys = map[string]string{
	"api_key":        envAPIKey,
	"openai_api_key": envAPIKey,
	"gateway_token":  envGatewayToken,
	"token":          envGatewayToken,
}

// configPath returns the config file's path: $XDG_CONFIG_HOME/analyst/config.yaml,
// or ~/.config/analyst/config.yaml.
func configPath() (string, error) {
	dir := os.Getenv(envConfigHome)
	if dir == "" || !filepath.IsAbs(dir) { // the spec says to ignore a relative path
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("config file: no %s and no home directory: %w", envConfigHome, err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "analyst", "config.yaml"), nil
}

// loadConfig reads the config file; a missing file is an empty config.
func loadConfig() (fileConfig, error) {
	var c fileConfig
	path, err := configPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, usageErrorf("config file %s: %s", path, human.PathProblem(err))
	}
	var keys map[string]any
	if err := yaml.Unmarshal(b, &keys); err != nil {
		return c, usageErrorf("config file %s: %s", path, yamlProblem(err))
	}
	for k := range keys {
		if env, ok := secretKeys[k]; ok {
			return c, usageErrorf("config file %s: %s is a secret and stays out of files: set %s in the environment instead", path, k, env)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, usageErrorf("config file %s: %s (known keys: model, models.planner, models.writer, gateway_url, prices.in, prices.out, context_budget)", path, yamlProblem(err))
	}
	if u, err := neturl.Parse(c.GatewayURL); err == nil && u.Query().Has("token") {
		return c, usageErrorf("config file %s: gateway_url holds a token, a secret that stays out of files: set %s in the environment instead", path, envGatewayToken)
	}
	if p := c.Prices; (p.In != nil && *p.In < 0) || (p.Out != nil && *p.Out < 0) {
		return c, usageErrorf("config file %s: prices must not be negative", path)
	}
	return c, nil
}

// yamlProblem words a YAML error in one line without the decoder's Go type
// names.
func yamlProblem(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return oneLine(stripGoTypes(te.Errors[0]))
	}
	return oneLine(err.Error())
}

// stripGoTypes turns yaml's "field x not found in type main.fileConfig"
// into "unknown key x", and "cannot unmarshal !!str `x` into float64" into
// "!!str `x` is not a number".
func stripGoTypes(msg string) string {
	var line int
	var field, typ string
	if n, _ := fmt.Sscanf(msg, "line %d: field %s not found in type %s", &line, &field, &typ); n == 3 {
		return fmt.Sprintf("line %d: unknown key %q", line, field)
	}
	if before, target, ok := strings.Cut(msg, " into "); ok && strings.Contains(before, "cannot unmarshal ") {
		want := "a mapping of keys"
		switch {
		case strings.HasPrefix(target, "float"):
			want = "a number"
		case strings.HasPrefix(target, "int"):
			want = "a whole number"
		case target == "string":
			want = "text"
		}
		return strings.Replace(before, "cannot unmarshal ", "", 1) + " is not " + want
	}
	return msg
}

// configFlag says which flag a config setting fills, and which flags or
// environment variables, when set, leave it alone.
type configFlag struct {
	flag  string
	value func(fileConfig) string
	// overriddenBy are flags that take precedence besides flag itself.
	overriddenBy []string
	// env is the variable that takes precedence, if any.
	env []string
}

var configFlags = []configFlag{
	{flag: "model", value: func(c fileConfig) string { return c.Model }, env: []string{envModel}},
	{flag: "planner-model", value: func(c fileConfig) string { return c.Models.Planner }, overriddenBy: []string{"model"}, env: []string{envModel}},
	{flag: "writer-model", value: func(c fileConfig) string { return c.Models.Writer }, overriddenBy: []string{"model"}, env: []string{envModel}},
	{flag: "gateway-url", value: func(c fileConfig) string { return c.GatewayURL }, env: []string{envGatewayURL}},
	{flag: "price-in", value: func(c fileConfig) string { return formatPrice(c.Prices.In) }},
	{flag: "price-out", value: func(c fileConfig) string { return formatPrice(c.Prices.Out) }},
	{flag: "context-budget", value: func(c fileConfig) string { return formatCount(c.ContextBudget) }, env: []string{envContextBudget}},
}

func formatCount(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func formatPrice(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

// applyConfig fills the flags of fs that the config file sets and that
// neither the command line nor the environment set. A command without any
// such flag does not read the file.
func applyConfig(fs *pflag.FlagSet) error {
	if !slices.ContainsFunc(configFlags, func(cf configFlag) bool { return fs.Lookup(cf.flag) != nil }) {
		return nil
	}
	c, err := loadConfig()
	if err != nil {
		return err
	}
	path, _ := configPath()
	for _, cf := range configFlags {
		f := fs.Lookup(cf.flag)
		v := cf.value(c)
		if f == nil || v == "" || f.Changed || slices.ContainsFunc(cf.overriddenBy, func(n string) bool {
			o := fs.Lookup(n)
			return o != nil && o.Changed
		}) || slices.ContainsFunc(cf.env, func(e string) bool { return os.Getenv(e) != "" }) {
			continue
		}
		if err := f.Value.Set(v); err != nil {
			return usageErrorf("config file %s: %s %q: %v", path, cf.flag, v, err)
		}
	}
	return nil
}

func newConfigCmd(io *console.IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Where the config file is, and what it may hold",
		Long: `analyst reads defaults from $XDG_CONFIG_HOME/analyst/config.yaml
(~/.config/analyst/config.yaml without XDG_CONFIG_HOME). Flags and environment
variables override it. Secrets (OPENAI_API_KEY, JUPYTER_GATEWAY_AUTH_TOKEN) stay
in the environment and are refused in the file.

  model: gpt-4o-mini          # --model, ANALYST_MODEL
  models:                     # per agent: --planner-model, --writer-model
    planner: gpt-4o
    writer: gpt-4o-mini
  gateway_url: https://gpu-node.example.com:8888   # --gateway-url, JUPYTER_GATEWAY_URL
  prices:                     # USD per million tokens: --price-in, --price-out
    in: 0.15
    out: 0.60
  context_budget: 8000        # --context-budget, ANALYST_CONTEXT_BUDGET

Exit codes: 0 ok, 2 usage error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "path",
		Short: "Print the config file's path (it need not exist)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := configPath()
			if err != nil {
				return err
			}
			fmt.Fprintln(io.Out, path)
			return nil
		},
	})
	return cmd
}
