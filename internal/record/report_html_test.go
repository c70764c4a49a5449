package record

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/team"
)

// recordEvents feeds a fresh Recorder the events, closes it and returns its
// directory.
func recordEvents(t *testing.T, meta Meta, events []team.Event) string {
	t.Helper()
	clk := &clock{t: t0}
	r, err := newRecorder(filepath.Join(t.TempDir(), "run"), meta, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		r.Observe(e)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return r.Dir()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReportSummaryAndSteps: the summary is not labelled twice, a long
// sub-task is shown whole, and the HTML report escapes what the agents
// wrote.
func TestReportSummaryAndSteps(t *testing.T) {
	long := "Load sales.csv, parse the order dates, and sum the sales of each region and month, keeping the returns apart <b>bold</b>"
	meta := testMeta()
	meta.Task = "What sells best? <script>alert(1)</script>"
	dir := recordEvents(t, meta, []team.Event{
		team.RunStarted{Task: meta.Task, Agents: []string{"planner", "writer", "executor"}, Time: t0},
		team.TurnStarted{Turn: 1, Agent: "planner"},
		team.MessageDone{Turn: 1, Message: team.Message{Agent: "planner", Content: long + "\n\nUse pandas.", Usage: team.Usage{PromptTokens: 10, CompletionTokens: 5}}},
		team.TurnStarted{Turn: 2, Agent: "planner"},
		team.MessageDone{Turn: 2, Message: team.Message{Agent: "planner", Final: true, Summary: "**Summary:** West sells most & East least.", Usage: team.Usage{PromptTokens: 10, CompletionTokens: 5}}},
		team.RunFinished{Reason: team.StopTerminated, Turns: 2, Duration: time.Second, Usage: map[string]team.Usage{"planner": {PromptTokens: 20, CompletionTokens: 10}, "executor": {}}},
	})
	md := readFile(t, filepath.Join(dir, ReportFile))
	for _, want := range []string{
		"## Summary\n\nWest sells most & East least.\n",
		"| 1 | " + long + " | — | no code |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	page := readFile(t, filepath.Join(dir, ReportHTMLFile))
	for _, want := range []string{
		"What sells best? &lt;script&gt;alert(1)&lt;/script&gt;",
		"keeping the returns apart &lt;b&gt;bold&lt;/b&gt;</td>",
		`<div class="text">West sells most &amp; East least.</div>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>") || strings.Contains(page, "executor") {
		t.Errorf("report.html holds unescaped text or an unused agent:\n%s", page)
	}
}

func TestSummaryText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Summary: West sells most.", "West sells most."},
		{"**Summary:** West sells most.", "West sells most."},
		{"## Summary\n\nWest sells most.", "West sells most."},
		{"Final summary:\n- West", "- West"},
		{"Summary statistics show West first.", "Summary statistics show West first."},
		{"West sells most.", "West sells most."},
		{"Summary:", "Summary:"},
	} {
		if got := summaryText(tt.in); got != tt.want {
			t.Errorf("summaryText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// chromium is Debian's headless browser, for checking report.html as a
// person sees it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (./scripts/setup installs it)")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// TestReportHTMLInBrowser renders report.html, moved away from its folder,
// in headless Chromium: a script added to a copy of the page writes each
// image's natural size into the DOM, which --dump-dom prints.
func TestReportHTMLInBrowser(t *testing.T) {
	bin := chromium(t)
	r := record(t, -1)
	// The executor saves the figures; the recorder only names them.
	png, err := base64.StdEncoding.DecodeString(pngBase64(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir(), "figure-1.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, filepath.Join(r.Dir(), ReportHTMLFile))
	if n := strings.Count(page, `src="data:image/png;base64,`); n != 1 {
		t.Fatalf("report.html embeds %d PNG figures, want 1", n)
	}
	probe := `<script>addEventListener("load", () => { for (const img of document.images) {
  const p = document.createElement("p"); p.className = "probe";
  p.textContent = "img " + img.naturalWidth + "x" + img.naturalHeight; document.body.append(p); } });</script>`
	// Elsewhere, without the figures next to it: the page must not need them.
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, []byte(strings.Replace(page, "</body>", probe+"</body>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000", "--dump-dom", "file://"+file)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	got := regexp.MustCompile(`<p class="probe">([^<]*)</p>`).FindAllStringSubmatch(string(out), -1)
	if len(got) != 1 || got[0][1] != "img 4x3" {
		t.Errorf("images as loaded = %q, want one 4x3 image\n%s", got, out)
	}
	if !strings.Contains(string(out), "The data holds 3 rows and 2 columns; sales peak in March.") {
		t.Errorf("the rendered page lacks the summary:\n%s", out)
	}
}
