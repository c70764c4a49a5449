package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayRefusesTamperedRecordings replays recordings that would read a
// file the recording names by path, or that are cut short: exit 2, one line
// saying why, before any gateway is contacted.
func TestReplayRefusesTamperedRecordings(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(exampleSession, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := filepath.Abs(superstoreCSV) // any file of the user's
	if err != nil {
		t.Fatal(err)
	}
	events := string(b)
	tests := []struct {
		name string
		text string
		want string
	}{
		{"absolute data path", strings.Replace(events, `"path":"../superstore.csv"`, `"path":"`+secret+`"`, 1),
			"data file superstore.csv not found beside the recording in DIR (recorded as " + secret + "): pass it with --data"},
		{"no run_finished", events[:strings.LastIndex(strings.TrimSuffix(events, "\n"), "\n")+1],
			"replay DIR/events.jsonl: the recording is incomplete (the run crashed or the file was cut or edited): it has no run_finished event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCLI(t, context.Background(), "replay", dir, "--gateway-url", "http://127.0.0.1:1")
			want := "analyst: " + strings.ReplaceAll(tt.want, "DIR", dir) + "\n"
			if code != exitUsage || errs != want || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errs, want)
			}
		})
	}
}
