package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/analyst-dev/analyst/internal/datafile"
	"github.com/analyst-dev/analyst/internal/human"
)

// Task is one analysis of a batch.
type Task struct {
	// Name is unique in the batch and names the task's records folder.
	Name string
	// Task is what to analyse.
	Task string
	// Data are the task's data files, as paths usable from the current
	// directory (the batch file's own paths are relative to its directory).
	Data []string
	// Model, when set, is the model of every agent of this task.
	Model string
	// Mode, when set, is "team" or "tool".
	Mode string
	// The task's limits; zero means the command's default.
	MaxTurns    int
	Timeout     time.Duration
	MaxTokens   int
	CellTimeout time.Duration
	// Expect are what the task's summary or outputs must contain.
	Expect []Expectation
}

// Error is a problem with a batch file: it names the file and, when the
// problem is in one task, the task (by position, 1-based, and name).
type Error struct {
	File  string
	Index int    // 0: the file as a whole
	Name  string // the task's name, when it has one
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("batch " + e.File + ": ")
	if e.Index > 0 {
		fmt.Fprintf(&b, "task %d", e.Index)
		if e.Name != "" {
			fmt.Fprintf(&b, " %q", e.Name)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// The fields a task may have.
var fields = []string{"name", "task", "data", "model", "mode", "max_turns", "timeout", "max_tokens", "cell_timeout", "expect"}

var validName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// maxName bounds a task's name, which names its records folder: file
// systems take 255 bytes at most.
const maxName = 100

// maxLine bounds a line of a JSON Lines batch file.
const maxLine = 16 << 20

// Load reads and checks the batch file at path. Files ending in .jsonl or
// .ndjson are JSON Lines; any other is YAML (which includes JSON). Every
// error is an *Error.
func Load(path string) ([]Task, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Err: errors.New(human.PathProblem(err))}
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a byte order mark, as some editors write
	var raws []map[string]any
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		raws, err = parseJSONL(b)
	default:
		raws, err = parseYAML(b)
	}
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	if len(raws) == 0 {
		return nil, &Error{File: path, Err: errors.New("no tasks")}
	}
	dir := filepath.Dir(path)
	tasks := make([]Task, 0, len(raws))
	first := map[string]int{}
	for i, raw := range raws {
		t, err := parseTask(raw, dir)
		if err != nil {
			return nil, &Error{File: path, Index: i + 1, Name: t.Name, Err: err}
		}
		if prev, ok := first[t.Name]; ok {
			return nil, &Error{File: path, Index: i + 1, Name: t.Name, Err: fmt.Errorf("duplicate name: task %d has it too", prev)}
		}
		first[t.Name] = i + 1
		tasks = append(tasks, t)
	}
	return tasks, nil
}

func parseYAML(b []byte) ([]map[string]any, error) {
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); ok {
		for k := range m {
			if k != "tasks" {
				return nil, fmt.Errorf("unknown field %q at the top: want a list of tasks, or tasks: [...]", k)
			}
		}
		doc = m["tasks"]
	}
	if doc == nil {
		return nil, nil
	}
	list, ok := doc.([]any)
	if !ok {
		return nil, errors.New("want a list of tasks, or tasks: [...]")
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("task %d: want a mapping with name, task, data and expect", i+1)
		}
		out[i] = m
	}
	return out, nil
}

func parseJSONL(b []byte) ([]map[string]any, error) {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 1
	for ; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil || m == nil {
			if err == nil {
				err = errors.New("want a JSON object")
			}
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if d.More() {
			return nil, fmt.Errorf("line %d: more than one JSON value", n)
		}
		out = append(out, m)
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, fmt.Errorf("line %d is longer than %d MiB: a task is text, its data goes in files", n, maxLine>>20)
	}
	return out, sc.Err()
}

// parseTask checks one task's fields. The returned task holds the name, when
// one was read, also with an error.
func parseTask(raw map[string]any, dir string) (Task, error) {
	var t Task
	if v, ok := raw["name"]; ok {
		s, err := str("name", v)
		if err != nil {
			return t, err
		}
		t.Name = s
	}
	var unknown []string
	for k := range raw {
		if !slices.Contains(fields, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return t, fmt.Errorf("unknown field %q (known: %s)", unknown[0], strings.Join(fields, ", "))
	}
	switch {
	case t.Name == "":
		return t, errors.New("name is missing")
	case len(t.Name) > maxName:
		n := len(t.Name)
		t.Name = "" // the error names the task by its position only
		return t, fmt.Errorf("name is %d characters long: at most %d (it names the task's folder)", n, maxName)
	case t.Name == "." || t.Name == ".." || !validName.MatchString(t.Name):
		bad := t.Name
		t.Name = "" // the error names the task by its position only
		return t, fmt.Errorf("name %q: use only letters, digits, '.', '_' and '-' (it names the task's folder)", bad)
	}
	var err error
	if t.Task, err = str("task", raw["task"]); err != nil {
		return t, err
	}
	if strings.TrimSpace(t.Task) == "" {
		return t, errors.New("task is missing: say what to analyse")
	}
	if t.Model, err = str("model", raw["model"]); err != nil {
		return t, err
	}
	if t.Mode, err = str("mode", raw["mode"]); err != nil {
		return t, err
	}
	if t.Mode != "" && t.Mode != "team" && t.Mode != "tool" {
		return t, fmt.Errorf("mode must be team or tool, got %q", t.Mode)
	}
	if t.MaxTurns, err = count("max_turns", raw["max_turns"], 1); err != nil {
		return t, err
	}
	if t.MaxTokens, err = count("max_tokens", raw["max_tokens"], 1); err != nil {
		return t, err
	}
	if t.Timeout, err = duration("timeout", raw["timeout"]); err != nil {
		return t, err
	}
	if t.CellTimeout, err = duration("cell_timeout", raw["cell_timeout"]); err != nil {
		return t, err
	}
	if t.Data, err = dataFiles(raw["data"], dir); err != nil {
		return t, err
	}
	if t.Expect, err = expectations(raw["expect"]); err != nil {
		return t, err
	}
	return t, nil
}

// str reads a string field; absent is "".
func str(field string, v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("%s: want text, got %s", field, show(v))
}

// count reads a whole number of at least min; absent is 0.
func count(field string, v any, min int) (int, error) {
	var n int
	switch v := v.(type) {
	case nil:
		return 0, nil
	case int:
		n = v
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
			return 0, fmt.Errorf("%s: want a whole number, got %s", field, show(v))
		}
		n = int(v)
	case json.Number:
		i, err := v.Int64()
		if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
			return 0, fmt.Errorf("%s: want a whole number, got %s", field, v)
		}
		n = int(i)
	default:
		return 0, fmt.Errorf("%s: want a whole number, got %s", field, show(v))
	}
	if n < min {
		return 0, fmt.Errorf("%s must be at least %d, got %d", field, min, n)
	}
	return n, nil
}

// duration reads a positive Go duration such as "90s" or "5m"; absent is 0.
func duration(field string, v any) (time.Duration, error) {
	if v == nil {
		return 0, nil
	}
	s, ok := v.(string)
	d, err := time.ParseDuration(s)
	if !ok || err != nil {
		return 0, fmt.Errorf("%s %s: not a duration (e.g. 90s, 5m, 1h30m)", field, show(v))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s must be positive, got %s", field, s)
	}
	return d, nil
}

// dataFiles reads the data list (or a single file) and checks that each
// file is readable and that no two share a base name.
func dataFiles(v any, dir string) ([]string, error) {
	var names []string
	switch v := v.(type) {
	case nil:
	case string:
		names = []string{v}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("data: want file names, got %s", show(e))
			}
			names = append(names, s)
		}
	default:
		return nil, fmt.Errorf("data: want a list of files, got %s", show(v))
	}
	var paths []string
	seen := map[string]string{}
	for _, name := range names {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		switch err := datafile.Usable(p); {
		case errors.Is(err, datafile.ErrDirectory):
			return nil, fmt.Errorf("data file %s is a directory: list its files one by one", name)
		case err != nil:
			return nil, fmt.Errorf("data file %s: %w", name, err)
		}
		base := filepath.Base(p)
		if prev, ok := seen[base]; ok {
			return nil, fmt.Errorf("data files %s and %s have the same name %q in the kernel: rename one", prev, name, base)
		}
		seen[base] = name
		paths = append(paths, p)
	}
	return paths, nil
}

func show(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprint(v)
}
