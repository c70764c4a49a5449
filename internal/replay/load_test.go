package replay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const example = "../../examples/superstore-session/events.jsonl"

// exampleLines returns the lines of the example session's events.jsonl.
func exampleLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	return lines[:len(lines)-1] // the file ends with a newline
}

// writeEvents writes an events.jsonl in a new directory and returns the
// directory.
func writeEvents(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// without drops the lines whose type is one of types, counting from the end:
// the last n of them.
func without(lines []string, typ string, n int) []string {
	var out []string
	for i := len(lines) - 1; i >= 0; i-- {
		if n > 0 && strings.HasPrefix(lines[i], `{"type":"`+typ+`"`) {
			n--
			continue
		}
		out = append([]string{lines[i]}, out...)
	}
	return out
}

func TestLoadIncomplete(t *testing.T) {
	lines := exampleLines(t)
	whole := strings.Join(lines, "")
	last := lines[len(lines)-1]
	tests := []struct {
		name string
		text string
		want string // "" for no error
	}{
		{"whole", whole, ""},
		{"last line cut", strings.TrimSuffix(whole, last) + last[:len(last)/2],
			"the recording is incomplete (the run crashed or the file was cut or edited): its last line (29) is cut short; it has no run_finished event"},
		{"last line without its newline", strings.TrimSuffix(whole, "\n"),
			"the recording is incomplete (the run crashed or the file was cut or edited): its last line (29) is cut short"},
		{"no run_finished", strings.TrimSuffix(whole, last), "the recording is incomplete (the run crashed or the file was cut or edited): it has no run_finished event"},
		{"a cell never finished", strings.Join(without(lines, "cell_finished", 1), ""),
			"the recording is incomplete (the run crashed or the file was cut or edited): cell 3 started but has no cell_finished"},
		{"cut after the first cell", strings.Join(lines[:8], ""),
			"the recording is incomplete (the run crashed or the file was cut or edited): cell 1 started but has no cell_finished; it has no run_finished event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeEvents(t, tt.text)
			s, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Complete()
			if tt.want == "" {
				if err != nil || len(s.Items) == 0 {
					t.Fatalf("Load = %v, %v; want the session", s, err)
				}
				return
			}
			want := "replay " + filepath.Join(dir, "events.jsonl") + ": " + tt.want
			if err == nil || err.Error() != want {
				t.Errorf("Load error = %v\nwant %s", err, want)
			}
		})
	}
}

// TestDataFilesOnlyByPlainName tampers with a recording's data file entry:
// a path in the recording is never opened, a name that is a path is refused,
// and a symbolic link beside the recording is not followed.
func TestDataFilesOnlyByPlainName(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	lines := exampleLines(t)
	tests := []struct {
		name      string
		entry     string // the run_started event's data entry
		link      bool   // orders.csv beside the recording links to the secret
		overrides []string
		want      string // the error, or "" and the file found
		found     string
	}{
		{"absolute recorded path", `{"name":"orders.csv","path":"` + secret + `"}`, false, nil,
			"data file orders.csv not found beside the recording in DIR (recorded as ", ""},
		{"relative recorded path", `{"name":"orders.csv","path":"../../../../../../..` + secret + `"}`, false, nil,
			"data file orders.csv not found beside the recording in DIR (recorded as ", ""},
		{"name is a path", `{"name":"` + secret + `","path":"x"}`, false, nil,
			`data file name "` + secret + `" is not a plain file name: the recording is damaged or was tampered with`, ""},
		{"name climbs", `{"name":"../secret.txt","path":"x"}`, false, nil,
			`data file name "../secret.txt" is not a plain file name: the recording is damaged or was tampered with`, ""},
		{"name with a backslash", `{"name":"..\\secret.txt","path":"x"}`, false, nil,
			`data file name "..\\secret.txt" is not a plain file name: the recording is damaged or was tampered with`, ""},
		{"symbolic link beside", `{"name":"orders.csv","path":"orders.csv"}`, true, nil,
			"data file orders.csv not found beside the recording in DIR (recorded as ", ""},
		{"the user's file", `{"name":"secret.txt","path":"/elsewhere/secret.txt"}`, false, []string{secret}, "", secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := lines[0]
			i := strings.Index(first, `"data":[`)
			j := strings.Index(first[i:], "]")
			if i < 0 || j < 0 {
				t.Fatal("the example's run_started has no data")
			}
			forged := first[:i] + `"data":[` + tt.entry + first[i+j:]
			dir := writeEvents(t, forged+strings.Join(lines[1:], ""))
			if tt.link {
				if err := os.Symlink(secret, filepath.Join(dir, "orders.csv")); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			paths, _, err := s.DataFiles(tt.overrides)
			if tt.want != "" {
				want := strings.ReplaceAll(tt.want, "DIR", dir)
				if err == nil || !strings.HasPrefix(err.Error(), want) || len(paths) != 0 {
					t.Errorf("DataFiles = %q, %v\nwant error %s...", paths, err, want)
				}
				return
			}
			if err != nil || len(paths) != 1 || paths[0] != tt.found {
				t.Errorf("DataFiles = %q, %v; want [%s]", paths, err, tt.found)
			}
		})
	}
}
