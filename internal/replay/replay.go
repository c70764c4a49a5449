package replay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/record"
)

// Session is a recorded run.
type Session struct {
	// Dir is the directory that holds the records.
	Dir string
	// Meta is the run's recorded configuration.
	Meta record.Meta
	// Items are the messages and cells in the order they happened.
	Items []record.Event
}

// Load reads a session from a run directory or its events.jsonl.
func Load(path string) (*Session, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, pathErr(err))
	}
	file := path
	if fi.IsDir() {
		file = filepath.Join(path, record.EventsFile)
	}
	events, err := record.ReadEvents(file)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, err)
	}
	s := &Session{Dir: filepath.Dir(file)}
	started := false
	for _, e := range events {
		switch e.Type {
		case record.TypeRunStarted:
			if !started {
				s.Meta, started = e.Meta, true
			}
		case record.TypeMessage, record.TypeCellFinished:
			s.Items = append(s.Items, e)
		}
	}
	if !started {
		return nil, fmt.Errorf("replay %s: no run_started event: is this an analyst events.jsonl?", file)
	}
	return s, nil
}

func pathErr(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no such file or directory")
	}
	return err
}

// DataFiles finds the recorded data files on this machine: first among
// overrides (matched by base name), then beside the records, then at the
// recorded path, as given or relative to the records. A file found with other
// content than was recorded is returned with a warning.
func (s *Session) DataFiles(overrides []string) (paths []string, warnings []string, err error) {
	byName := map[string]string{}
	for _, o := range overrides {
		byName[filepath.Base(o)] = o
	}
	for _, df := range s.Meta.Data {
		var candidates []string
		if o, ok := byName[df.Name]; ok {
			candidates = append(candidates, o)
		}
		candidates = append(candidates, filepath.Join(s.Dir, df.Name), df.Path)
		if !filepath.IsAbs(df.Path) {
			candidates = append(candidates, filepath.Join(s.Dir, df.Path))
		}
		found := ""
		for _, c := range candidates {
			if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
				found = c
				break
			}
		}
		if found == "" {
			return nil, nil, fmt.Errorf("data file %s not found (recorded as %s): pass it with --data", df.Name, df.Path)
		}
		if df.SHA256 != "" {
			df2, err := record.NewDataFile(df.Name, found)
			if err != nil {
				return nil, nil, err
			}
			sum := df2.SHA256
			if sum != df.SHA256 {
				warnings = append(warnings, fmt.Sprintf("%s differs from the recorded file (sha256 %s…, recorded %s…): outputs may differ", found, sum[:12], df.SHA256[:min(12, len(df.SHA256))]))
			}
		}
		paths = append(paths, found)
	}
	return paths, warnings, nil
}

// Ran reports whether the recorded cell was run (not skipped).
func Ran(e record.Event) bool {
	return e.Cell().Status() != cell.Skipped
}

// Compare tells whether a cell's outputs now match the recorded ones, by
// what a reader sees (see cell.Cell.Fingerprint): stream text, the text of
// rich outputs, which images there are (not their bytes, which differ
// between library versions), and the error's name and value. When they
// differ, diff names the first differing line.
func Compare(recorded, now cell.Cell) (match bool, diff string) {
	a, b := recorded.Fingerprint(), now.Fingerprint()
	if a == b {
		return true, ""
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return false, fmt.Sprintf("line %d: recorded %q, now %q", i+1, x, y)
		}
	}
	return false, "outputs differ"
}
