package prompts

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/template"
)

//go:embed *.md
var embedded embed.FS

// Names of the prompt files.
const (
	Planner = "planner.md"
	Writer  = "writer.md"
	Tool    = "tool.md"
)

var names = []string{Planner, Writer, Tool}

// File is a data file that the kernel holds.
type File struct {
	Name string
	Size int64
}

// Data is what the templates may use.
type Data struct {
	// Stop is the word that ends a run (TERMINATION).
	Stop string
	// Files are the data files uploaded to the kernel's working directory.
	Files []File
}

// Set is a parsed set of prompt templates.
type Set struct {
	tmpl map[string]*template.Template
}

// Load parses the embedded prompts, overriding each with the file of the same
// name in dir when dir is not empty and holds one.
func Load(dir string) (*Set, error) {
	s := &Set{tmpl: make(map[string]*template.Template, len(names))}
	for _, name := range names {
		text, err := fs.ReadFile(embedded, name)
		if err != nil {
			return nil, err
		}
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, name))
			switch {
			case err == nil:
				text = b
			case !errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("read prompt: %w", err)
			}
		}
		t, err := template.New(name).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("parse prompt %s: %w", name, err)
		}
		s.tmpl[name] = t
	}
	return s, nil
}

// Render executes the named prompt with d.
func (s *Set) Render(name string, d Data) (string, error) {
	t, ok := s.tmpl[name]
	if !ok {
		return "", fmt.Errorf("no prompt named %q", name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render prompt %s: %w", name, err)
	}
	return b.String(), nil
}

// Human is the file's size for people ("1.2 MB").
func (f File) Human() string { return Size(f.Size) }

// Size formats a byte count for people ("1.2 MB").
func Size(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
