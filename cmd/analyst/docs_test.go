package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/analyst-dev/analyst/internal/batch"
	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/superstore"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// codeBlock is a fenced code block of a Markdown file.
type codeBlock struct {
	file string
	line int    // of the opening fence
	lang string // the fence's info string: sh, yaml, json, or ""
	text string
}

func (b codeBlock) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// docBlocks returns the fenced code blocks of README.md and docs/*.md.
func docBlocks(t *testing.T) []codeBlock {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	files = append([]string{filepath.Join(repoRoot, "README.md")}, files...)
	var blocks []codeBlock
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(repoRoot, f)
		var cur *codeBlock
		for i, line := range strings.Split(string(b), "\n") {
			switch {
			case cur == nil && strings.HasPrefix(line, "```"):
				cur = &codeBlock{file: name, line: i + 1, lang: strings.TrimSpace(strings.TrimPrefix(line, "```"))}
			case cur != nil && strings.TrimSpace(line) == "```":
				blocks = append(blocks, *cur)
				cur = nil
			case cur != nil:
				cur.text += line + "\n"
			}
		}
		if cur != nil {
			t.Errorf("%s: unclosed code block", cur)
		}
	}
	if len(blocks) < 10 {
		t.Fatalf("found only %d code blocks in the docs", len(blocks))
	}
	return blocks
}

// shellCmd is one command of a shell line.
type shellCmd struct {
	words []string
	piped bool // its standard input is the previous command's output
}

// shellWords splits a shell command line into commands (at unquoted |, ;
// and &&) of words, dropping comments. It knows quotes and backslashes, which
// is all the docs use.
func shellWords(line string) ([]shellCmd, error) {
	var cmds []shellCmd
	var words []string
	piped := false
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, w.String())
		}
		w.Reset()
		inWord = false
	}
	endCmd := func() {
		flush()
		if len(words) > 0 {
			cmds = append(cmds, shellCmd{words, piped})
		}
		words, piped = nil, false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unclosed ' in %q", line)
			}
			w.WriteString(line[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case c == '"':
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`+"`", line[i+1]) >= 0 {
					i++
				}
				w.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, fmt.Errorf("unclosed \" in %q", line)
			}
		case c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			endCmd()
			return cmds, nil
		case c == '|':
			endCmd()
			piped = true
		case c == ';':
			endCmd()
		case c == '&' && i+1 < len(line) && line[i+1] == '&':
			endCmd()
			i++
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds, nil
}

var envAssignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// docCommand is an analyst command line of the docs: the words after
// "analyst", and its standard input when an echo pipes into it.
type docCommand struct {
	args  []string
	stdin string
}

// analystCommands returns the analyst command lines of a shell snippet:
// continuation lines joined, "$ " prompts and leading VAR=value assignments
// dropped.
func analystCommands(text string) ([]docCommand, error) {
	var out []docCommand
	text = strings.ReplaceAll(text, "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "$ ")
		cmds, err := shellWords(line)
		if err != nil {
			return nil, err
		}
		for i, c := range cmds {
			words := c.words
			for len(words) > 0 && envAssignment.MatchString(words[0]) {
				words = words[1:]
			}
			if len(words) == 0 || words[0] != "analyst" {
				continue
			}
			dc := docCommand{args: words[1:]}
			if c.piped && cmds[i-1].words[0] == "echo" {
				dc.stdin = strings.Join(cmds[i-1].words[1:], " ") + "\n"
			}
			out = append(out, dc)
		}
	}
	return out, nil
}

// checkCommandLine parses an analyst command line as the CLI would, without
// running it: the command exists, its flags parse and its arguments are
// accepted.
func checkCommandLine(args []string) error {
	io, _, _ := console.Test()
	root := newRootCmd(io)
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return flagError(cmd, err)
	}
	return cmd.ValidateArgs(cmd.Flags().Args())
}

// TestDocsCommandLines: every analyst command line in README.md, docs/ and
// the commands' own examples parses: the commands, flags and arguments are
// ones analyst has.
func TestDocsCommandLines(t *testing.T) {
	type example struct {
		where string
		text  string
	}
	var examples []example
	for _, b := range docBlocks(t) {
		if b.lang == "" || b.lang == "sh" || b.lang == "bash" {
			examples = append(examples, example{b.String(), b.text})
		}
	}
	io, _, _ := console.Test()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example != "" {
			examples = append(examples, example{c.CommandPath() + " --help", c.Example})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(io))

	checked := 0
	for _, ex := range examples {
		cmds, err := analystCommands(ex.text)
		if err != nil {
			t.Errorf("%s: %v", ex.where, err)
		}
		for _, c := range cmds {
			checked++
			if err := checkCommandLine(c.args); err != nil {
				t.Errorf("%s: analyst %s: %v", ex.where, strings.Join(c.args, " "), err)
			}
		}
	}
	if checked < 10 {
		t.Errorf("checked only %d command lines", checked)
	}
}

// TestDocsScriptsAndMakeTargets: the scripts and make targets the docs name
// exist.
func TestDocsScriptsAndMakeTargets(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range docBlocks(t) {
		if b.lang != "sh" {
			continue
		}
		for _, line := range strings.Split(b.text, "\n") {
			cmds, _ := shellWords(line)
			for _, c := range cmds {
				words := c.words
				switch {
				case strings.HasPrefix(words[0], "./scripts/"):
					if fi, err := os.Stat(filepath.Join(repoRoot, words[0])); err != nil || fi.Mode()&0o111 == 0 {
						t.Errorf("%s: %s is not an executable script", b, words[0])
					}
				case words[0] == "make" && len(words) > 1:
					if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(words[1]) + `:`).Match(mk) {
						t.Errorf("%s: the Makefile has no target %q", b, words[1])
					}
				}
			}
		}
	}
}

// TestDocsDataExamples: every JSON block is valid JSON (an MCP host's entry
// starts analyst with arguments that parse), every YAML block is valid YAML,
// the batch examples load as batch files, and the batch YAML's expectations
// match the superstore totals they are written for.
func TestDocsDataExamples(t *testing.T) {
	totals, err := superstore.RegionTotals(superstoreCSV)
	if err != nil {
		t.Fatal(err)
	}
	var output strings.Builder
	for _, region := range []string{"Central", "East", "South", "West"} {
		fmt.Fprintf(&output, "%s: %.2f\n", region, totals[region])
	}
	batches, configs := 0, 0
	for _, b := range docBlocks(t) {
		switch b.lang {
		case "json":
			checkJSONExample(t, b)
			if b.file == filepath.Join("docs", "batch.md") {
				batches++
				tasks := loadBatchExample(t, b, "batch.jsonl")
				if len(tasks) != 1 || tasks[0].Name != "totals" {
					t.Errorf("%s: loaded %+v", b, tasks)
				}
			}
		case "yaml":
			var doc any
			if err := yaml.Unmarshal([]byte(b.text), &doc); err != nil {
				t.Errorf("%s: not valid YAML: %v", b, err)
				continue
			}
			if isConfigExample(doc) {
				configs++
				checkConfigExample(t, b)
				continue
			}
			if !strings.Contains(b.text, "task:") {
				continue
			}
			batches++
			tasks := loadBatchExample(t, b, "batch.yaml")
			if len(tasks) == 0 {
				continue
			}
			ev := batch.Evidence{Summary: "Total sales per region:\n" + output.String(), Outputs: []string{"/not a regex/\n"}}
			if unmet := ev.Unmet(tasks[0].Expect); len(unmet) > 0 {
				t.Errorf("%s: task %q's expectations %v do not match the superstore totals:\n%s", b, tasks[0].Name, unmet, output.String())
			}
		}
	}
	if batches != 2 {
		t.Errorf("checked %d batch examples, want the YAML and the JSON Lines one of docs/batch.md", batches)
	}
	if configs != 1 {
		t.Errorf("checked %d config file examples, want the README's", configs)
	}
}

// isConfigExample reports whether a YAML document has only the config
// file's top-level keys.
func isConfigExample(doc any) bool {
	m, ok := doc.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	known := map[string]bool{}
	typ := reflect.TypeFor[fileConfig]()
	for i := range typ.NumField() {
		known[strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0]] = true
	}
	for k := range m {
		if !known[k] {
			return false
		}
	}
	return true
}

// checkConfigExample loads the block as the config file and applies it to
// run's flags.
func checkConfigExample(t *testing.T, b codeBlock) {
	t.Helper()
	writeConfig(t, b.text)
	t.Setenv("ANALYST_MODEL", "")
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	fs, err := parsedFlags(t, "run")
	if err != nil {
		t.Errorf("%s: the config example does not load: %v", b, err)
		return
	}
	t.Setenv("ANALYST_CONTEXT_BUDGET", "")
	for _, name := range []string{"model", "gateway-url", "price-in", "context-budget"} {
		if fs.Lookup(name).Value.String() == fs.Lookup(name).DefValue {
			t.Errorf("%s: the config example leaves --%s at its default", b, name)
		}
	}
}

// checkJSONExample checks a JSON block, or each line of a JSON Lines one;
// an MCP host's configuration must start analyst with arguments that parse.
func checkJSONExample(t *testing.T, b codeBlock) {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(b.text), &v); err != nil {
		sc := bufio.NewScanner(strings.NewReader(b.text))
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" && !json.Valid([]byte(line)) {
				t.Errorf("%s: neither JSON nor JSON Lines: %v", b, err)
				return
			}
		}
		return
	}
	var hosts struct {
		MCPServers map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	json.Unmarshal([]byte(b.text), &hosts)
	for name, s := range hosts.MCPServers {
		if s.Command != "analyst" {
			t.Errorf("%s: MCP server %q runs %q", b, name, s.Command)
		}
		if err := checkCommandLine(s.Args); err != nil {
			t.Errorf("%s: MCP server %q: analyst %s: %v", b, name, strings.Join(s.Args, " "), err)
		}
	}
}

// loadBatchExample writes the block as a batch file, with empty stand-ins
// for the data files it names, and loads it.
func loadBatchExample(t *testing.T, b codeBlock, name string) []batch.Task {
	t.Helper()
	dir := t.TempDir()
	for _, m := range regexp.MustCompile(`data: \[([^\]]*)\]|"data": \[([^\]]*)\]`).FindAllStringSubmatch(b.text, -1) {
		for _, f := range strings.Split(m[1]+m[2], ",") {
			os.WriteFile(filepath.Join(dir, strings.Trim(f, ` "`)), nil, 0o644)
		}
	}
	path := filepath.Join(dir, name)
	os.WriteFile(path, []byte(b.text), 0o644)
	tasks, err := batch.Load(path)
	if err != nil {
		t.Errorf("%s: the batch example does not load: %v", b, err)
	}
	return tasks
}

// TestShellWords pins the splitter the docs tests rely on.
func TestShellWords(t *testing.T) {
	got, err := shellWords(`FOO=1 analyst run --task "a \"b\" c" -d 'x y' | analyst exec - # note`)
	want := []shellCmd{{[]string{"FOO=1", "analyst", "run", "--task", `a "b" c`, "-d", "x y"}, false}, {[]string{"analyst", "exec", "-"}, true}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("shellWords = %v, %v; want %v", got, err, want)
	}
}

// TestDocsExecExamplesRun runs the exec examples that need no file of
// their own in a real kernel: they exit 0 and print something.
func TestDocsExecExamplesRun(t *testing.T) {
	js := jupytertest.Start(t)
	var examples []docCommand
	io, _, _ := console.Test()
	root := newRootCmd(io)
	for _, c := range root.Commands() {
		cmds, err := analystCommands(c.Example)
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, cmds...)
	}
	for _, b := range docBlocks(t) {
		cmds, _ := analystCommands(b.text)
		examples = append(examples, cmds...)
	}
	ran := 0
	for _, ex := range examples {
		if ex.args[0] != "exec" || slices.ContainsFunc(ex.args, func(a string) bool { return a == "-f" || a == "--kernel-id" }) {
			continue
		}
		ran++
		io, out, errb := testIO(ex.stdin)
		code := run(context.Background(), append(ex.args, "--gateway-url", js.URL, "--gateway-token", js.Token), io)
		if code != 0 || strings.TrimSpace(out.String()) == "" {
			t.Errorf("analyst %s: exit %d, stdout %q, stderr %q", strings.Join(ex.args, " "), code, out, errb)
		}
	}
	if ran < 2 {
		t.Errorf("ran %d exec examples, want at least exec's two", ran)
	}
}
