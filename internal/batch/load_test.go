//go:build unix

package batch

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadHostileFiles: a byte order mark is read past; a line too long, a
// name too long for a folder and a data file that is a directory or a pipe
// are one-line errors naming the task.
func TestLoadHostileFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "data.csv"), []byte("a\n1\n"), 0o644)
	fifo := filepath.Join(dir, "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Should the pipe be opened after all, a writer lets the open return
	// instead of hanging the test; it is released at the end.
	go func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	}()
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	if err := os.Mkdir(filepath.Join(dir, "tables"), 0o755); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("n", 300)
	tests := []struct {
		name, file, text string
		want             string // "" loads one task
	}{
		{"BOM", "bom.jsonl", "\xef\xbb\xbf" + `{"name": "a", "task": "t", "data": "data.csv", "expect": "1"}` + "\n", ""},
		{"BOM in YAML", "bom.yaml", "\xef\xbb\xbf- {name: a, task: t, expect: \"1\"}\n", ""},
		{"20 MB line", "big.jsonl", `{"name": "a", "task": "t", "expect": "1"}` + "\n" + `{"name": "b", "task": "` + strings.Repeat("x", 20<<20) + `"}` + "\n",
			"line 2 is longer than 16 MiB: a task is text, its data goes in files"},
		{"300-char name", "long.jsonl", `{"name": "` + long + `", "task": "t", "expect": "1"}` + "\n",
			"task 1: name is 300 characters long: at most 100 (it names the task's folder)"},
		{"data is a directory", "dir.jsonl", `{"name": "a", "task": "t", "data": "tables", "expect": "1"}` + "\n",
			`task 1 "a": data file tables is a directory: list its files one by one`},
		{"data on a pipe", "pipe.jsonl", `{"name": "a", "task": "t", "data": "pipe.csv", "expect": "1"}` + "\n",
			`task 1 "a": data file pipe.csv: a named pipe, not a regular file: copy its content to a file first`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			tasks, err := Load(path)
			if tt.want == "" {
				if err != nil || len(tasks) != 1 || tasks[0].Name != "a" {
					t.Errorf("Load = %+v, %v; want task a", tasks, err)
				}
				return
			}
			if want := "batch " + path + ": " + tt.want; err == nil || err.Error() != want {
				t.Errorf("Load error = %v\nwant %s", err, want)
			}
		})
	}
}
