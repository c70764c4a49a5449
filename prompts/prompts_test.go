package prompts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderEmbedded(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Render(Planner, Data{Stop: "TERMINATION", Files: []File{{Name: "superstore.csv", Size: 2_345_678}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"word TERMINATION on its own line", "- superstore.csv (2.3 MB)", "one sub-task at a time"} {
		if !strings.Contains(got, want) {
			t.Errorf("planner prompt lacks %q:\n%s", want, got)
		}
	}
	w, err := s.Render(Writer, Data{Stop: "TERMINATION"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(w, "Data files") {
		t.Errorf("writer prompt lists a data section with no files:\n%s", w)
	}
	if !strings.Contains(w, "Never reload a file") {
		t.Errorf("writer prompt lost the state-reuse rule:\n%s", w)
	}
}

func TestLoadOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Writer), []byte("custom {{.Stop}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Render(Writer, Data{Stop: "DONE"})
	if got != "custom DONE" {
		t.Errorf("override = %q, want %q", got, "custom DONE")
	}
	p, _ := s.Render(Planner, Data{Stop: "DONE"})
	if !strings.Contains(p, "task planner") {
		t.Errorf("planner should fall back to the embedded prompt, got %q", p)
	}
}

func TestLoadBadTemplate(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, Planner), []byte("{{.Nope"), 0o644)
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "parse prompt planner.md") {
		t.Fatalf("err = %v, want a parse error naming planner.md", err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 999: "999 bytes", 1000: "1.0 kB", 1_500_000: "1.5 MB", 3_000_000_000: "3.0 GB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
