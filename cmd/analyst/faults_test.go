package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
	"github.com/analyst-dev/analyst/jupyter"
)

var faultTable = flag.Bool("fault-table", false, "print the fault matrix as a table (make faults)")

// Sentinel secrets: none may appear in any output, record or error.
const (
	sentinelKey        = "sk-SENTINEL-KEY-7f3a9c"
	sentinelWrongToken = "SENTINEL-WRONG-TOKEN-51d2"
)

// faultRow is one line of the matrix.
type faultRow struct {
	n                  int
	fault, expected    string
	observed           string
	pass               bool
	stdout, stderr     string
	outDir             string
	duration           time.Duration
	maxRSSKB           int64
	exitCode           int
	secretsToCheck     []string
	requestsToLLMBytes int
}

// matrix runs analyst's binary against a real Jupyter Server and scripted
// LLM servers, one fault at a time.
type matrix struct {
	bin  string
	js   *jupytertest.Server
	mu   sync.Mutex
	rows []*faultRow
}

// run starts analyst with args (the gateway and the LLM are added) and waits
// for it to end.
func (m *matrix) run(t *testing.T, row *faultRow, llm *llmtest.Server, args ...string) {
	t.Helper()
	row.outDir = t.TempDir()
	full := append([]string{"run", "--out", row.outDir, "--llm-retries", "2"}, args...)
	if !hasFlag(args, "--gateway-url") {
		full = append(full, "--gateway-url", m.js.URL)
	}
	cmd := exec.Command(m.bin, full...)
	cmd.Env = append(os.Environ(), "OPENAI_API_KEY="+sentinelKey, "NO_COLOR=1", "ANALYST_MODEL=",
		"JUPYTER_GATEWAY_URL=", "JUPYTER_GATEWAY_AUTH_TOKEN="+m.js.Token)
	if llm != nil {
		cmd.Env = append(cmd.Env, "OPENAI_BASE_URL="+llm.URL)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	row.duration = time.Since(began)
	row.stdout, row.stderr = stdout.String(), stderr.String()
	row.exitCode = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		row.maxRSSKB = ru.Maxrss
	}
	if err != nil && row.exitCode < 0 {
		t.Fatalf("analyst did not run: %v", err)
	}
	if llm != nil {
		for _, r := range llm.Requests() {
			for _, msg := range r.Messages {
				row.requestsToLLMBytes += len(msg.Content)
			}
		}
	}
}

func hasFlag(args []string, f string) bool {
	for _, a := range args {
		if a == f {
			return true
		}
	}
	return false
}

// check records the row's verdict: every condition must hold.
func (m *matrix) check(t *testing.T, row *faultRow, conds ...cond) {
	t.Helper()
	row.pass = true
	var seen []string
	for _, c := range conds {
		if !c.ok {
			row.pass = false
			t.Errorf("row %d (%s): %s\nexit %d\nstdout:\n%s\nstderr:\n%s", row.n, row.fault, c.what, row.exitCode, tail(row.stdout, 3000), tail(row.stderr, 2000))
			seen = append(seen, "NOT "+c.what)
		}
	}
	if row.observed == "" {
		row.observed = fmt.Sprintf("exit %d in %s", row.exitCode, row.duration.Round(100*time.Millisecond))
	}
	if len(seen) > 0 {
		row.observed += "; " + strings.Join(seen, "; ")
	}
	m.mu.Lock()
	m.rows = append(m.rows, row)
	m.mu.Unlock()
}

type cond struct {
	ok   bool
	what string
}

func is(ok bool, what string, args ...any) cond { return cond{ok, fmt.Sprintf(what, args...)} }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// errorLine is the transcript's one error line ("error: ...") or the CLI's
// one "analyst: ..." line.
func errorLine(row *faultRow) string {
	for _, l := range strings.Split(row.stdout+"\n"+row.stderr, "\n") {
		if strings.HasPrefix(l, "error: ") || strings.HasPrefix(l, "analyst: ") && !strings.HasPrefix(l, "analyst: warning") {
			return l
		}
	}
	return ""
}

// recordsValid checks the run's records: events.jsonl parses and ends with
// run_finished, and the notebook validates.
func recordsValid(t *testing.T, row *faultRow, reason string) cond {
	t.Helper()
	events, err := record.ReadEvents(filepath.Join(row.outDir, "events.jsonl"))
	if err != nil {
		return is(false, "events.jsonl readable: %v", err)
	}
	last := events[len(events)-1]
	if last.Type != record.TypeRunFinished || (reason != "" && last.Reason != reason) {
		return is(false, "events.jsonl ends with run_finished %s (got %s %s)", reason, last.Type, last.Reason)
	}
	out, err := exec.Command("/usr/bin/python3", "-c",
		"import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))",
		filepath.Join(row.outDir, "analysis.ipynb")).CombinedOutput()
	return is(err == nil, "analysis.ipynb valid (%s)", strings.TrimSpace(string(out)))
}

func (m *matrix) noKernels(t *testing.T) cond {
	c, _ := jupyter.NewClient(jupyter.Config{URL: m.js.URL, Token: m.js.Token})
	ks, err := c.ListKernels(context.Background())
	return is(err == nil && len(ks) == 0, "kernel deleted (%d left, %v)", len(ks), err)
}

// lastPrompt is the newest message the LLM received in its last request.
func lastPrompt(llm *llmtest.Server) string {
	reqs := llm.Requests()
	if len(reqs) == 0 {
		return ""
	}
	msgs := reqs[len(reqs)-1].Messages
	return msgs[len(msgs)-1].Content
}

// anyPrompt reports whether any request's messages contain s.
func anyPrompt(llm *llmtest.Server, s string) bool {
	for _, r := range llm.Requests() {
		for _, m := range r.Messages {
			if strings.Contains(m.Content, s) {
				return true
			}
		}
	}
	return false
}

func countEvents(t *testing.T, row *faultRow, typ string) int {
	events, err := record.ReadEvents(filepath.Join(row.outDir, "events.jsonl"))
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func plan(s string) llmtest.Reply   { return llmtest.Reply{Content: s} }
func code(src string) llmtest.Reply { return llmtest.Reply{Content: fence(src)} }
func done(s string) llmtest.Reply   { return llmtest.Reply{Content: s + "\nTERMINATION"} }

// TestFaultMatrix is issue 6's fault-injection suite: each row runs analyst
// end to end under one fault and checks what the user and the records get.
// `make faults` prints it as a table.
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary many times")
	}
	m := &matrix{bin: binary(t), js: jupytertest.Start(t)}
	secrets := []string{sentinelKey, sentinelWrongToken, m.js.Token}
	t.Cleanup(func() {
		// Row 17: no secret anywhere, across every row.
		row := &faultRow{n: 17, fault: "sentinel API key and gateway token", expected: "in no output, file or error of any row"}
		var leaks []string
		for _, r := range m.rows {
			texts := []string{r.stdout, r.stderr}
			filepath.Walk(r.outDir, func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() {
					b, _ := os.ReadFile(p)
					texts = append(texts, string(b))
				}
				return nil
			})
			for _, s := range secrets {
				for _, text := range texts {
					if strings.Contains(text, s) {
						leaks = append(leaks, fmt.Sprintf("row %d", r.n))
					}
				}
			}
		}
		row.pass = len(leaks) == 0 && len(m.rows) > 0
		row.observed = fmt.Sprintf("checked %d rows, leaks: %d", len(m.rows), len(leaks))
		if !row.pass {
			t.Errorf("secrets leaked in %v", leaks)
		}
		m.rows = append(m.rows, row)
		if *faultTable {
			printFaultTable(os.Stdout, m.rows)
		}
	})

	t.Run("01-429-twice", func(t *testing.T) {
		row := &faultRow{n: 1, fault: "LLM answers 429 (Retry-After: 1) twice, then succeeds", expected: "run completes; 2 retries reported"}
		llm := scripted(t, nil,
			llmtest.Reply{Status: 429, ErrorMessage: "Rate limit reached", RetryAfter: "1"},
			llmtest.Reply{Status: 429, ErrorMessage: "Rate limit reached", RetryAfter: "1"},
			plan("Sub-task 1: print 2 + 2."), code("print(2 + 2)"), done("It is 4."))
		m.run(t, row, llm, "--task", "2 + 2")
		row.observed = fmt.Sprintf("exit %d; %d retry events; console: %q", row.exitCode, countEvents(t, row, record.TypeRetry), firstLineWith(row.stdout, "retrying"))
		m.check(t, row, is(row.exitCode == 0, "exit 0"),
			is(countEvents(t, row, record.TypeRetry) == 2, "2 retries recorded"),
			is(strings.Count(row.stdout, "retrying") == 2, "2 retries on the console"),
			recordsValid(t, row, "terminated"), m.noKernels(t))
	})

	t.Run("02-5xx-dropped-malformed", func(t *testing.T) {
		row := &faultRow{n: 2, fault: "LLM answers 500, then closes the stream mid-answer, then sends malformed JSON (--llm-retries 2)", expected: "each retried; then one clear error, records kept, kernel deleted, exit 1"}
		llm := scripted(t, nil,
			llmtest.Reply{Status: 500, ErrorMessage: "upstream exploded"},
			llmtest.Reply{Content: "Sub-task 1: something long enough to be cut", DropAfter: 10},
			llmtest.Reply{Content: "Sub-task 1: print 1", Malformed: true})
		m.run(t, row, llm, "--task", "anything")
		el := errorLine(row)
		row.observed = fmt.Sprintf("exit %d; %d retries; %q", row.exitCode, countEvents(t, row, record.TypeRetry), el)
		m.check(t, row, is(row.exitCode == 1, "exit 1"),
			is(len(llm.Requests()) == 3, "3 attempts (got %d)", len(llm.Requests())),
			is(countEvents(t, row, record.TypeRetry) == 2, "2 retries recorded"),
			is(strings.Contains(el, "gave up after 3 attempts"), "error says it gave up after 3 attempts"),
			recordsValid(t, row, "error"), m.noKernels(t))
	})

	t.Run("03-401", func(t *testing.T) {
		row := &faultRow{n: 3, fault: "wrong API key (401)", expected: "one line naming OPENAI_API_KEY, exit 1, no retry"}
		llm := llmtest.NewServer(t)
		llm.RequireKey("sk-the-right-one")
		m.run(t, row, llm, "--task", "anything")
		el := errorLine(row)
		row.observed = fmt.Sprintf("exit %d; %d request; %q", row.exitCode, len(llm.Requests()), el)
		m.check(t, row, is(row.exitCode == 1, "exit 1"), is(len(llm.Requests()) == 1, "exactly one request"),
			is(strings.Contains(el, "OPENAI_API_KEY"), "the error names OPENAI_API_KEY"), m.noKernels(t))
	})

	t.Run("04-unknown-model", func(t *testing.T) {
		row := &faultRow{n: 4, fault: "unknown model (404)", expected: "one line naming the model, exit 1"}
		llm := llmtest.NewServer(t)
		llm.Models("gpt-4o-mini")
		m.run(t, row, llm, "--task", "anything", "--model", "gpt-9-imaginary")
		el := errorLine(row)
		row.observed = fmt.Sprintf("exit %d; %q", row.exitCode, el)
		m.check(t, row, is(row.exitCode == 1, "exit 1"), is(len(llm.Requests()) == 1, "no retry"),
			is(strings.Contains(el, `"gpt-9-imaginary"`), "the error names the model"), m.noKernels(t))
	})

	t.Run("05-gateway-unreachable", func(t *testing.T) {
		row := &faultRow{n: 5, fault: "gateway unreachable", expected: "one line naming the URL, exit 1, within 10 s"}
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		dead := "http://" + l.Addr().String()
		l.Close()
		llm := llmtest.NewServer(t)
		llm.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Content: "Sub-task 1: wait", StallAfter: 5} })
		m.run(t, row, llm, "--task", "anything", "--gateway-url", dead)
		el := errorLine(row)
		row.observed = fmt.Sprintf("exit %d in %s; %q", row.exitCode, row.duration.Round(100*time.Millisecond), el)
		m.check(t, row, is(row.exitCode == 1, "exit 1"), is(row.duration < 10*time.Second, "within 10 s"),
			is(strings.Contains(el, dead), "the error names %s", dead))
	})

	t.Run("06-wrong-gateway-token", func(t *testing.T) {
		row := &faultRow{n: 6, fault: "wrong gateway token", expected: "one line naming --gateway-token / JUPYTER_GATEWAY_AUTH_TOKEN, never the token, exit 1"}
		llm := llmtest.NewServer(t)
		llm.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Content: "Sub-task 1: wait", StallAfter: 5} })
		m.run(t, row, llm, "--task", "anything", "--gateway-token", sentinelWrongToken)
		el := errorLine(row)
		row.observed = fmt.Sprintf("exit %d; %q", row.exitCode, el)
		m.check(t, row, is(row.exitCode == 1, "exit 1"),
			is(strings.Contains(el, "--gateway-token") && strings.Contains(el, "JUPYTER_GATEWAY_AUTH_TOKEN"), "the error names both ways to set the token"),
			is(!strings.Contains(row.stdout+row.stderr, sentinelWrongToken), "the token is not shown"), m.noKernels(t))
	})

	for _, kill := range []struct{ name, code string }{
		{"os._exit", "import os\nos._exit(1)"},
		{"SIGKILL", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"},
	} {
		t.Run("07-kernel-killed-"+kill.name, func(t *testing.T) {
			row := &faultRow{n: 7, fault: "kernel killed mid-cell (" + kill.name + ")", expected: `"kernel died; restarted; variables lost"; kernel restarted; the team goes on`}
			llm := scripted(t, nil,
				plan("Sub-task 1: set x."), code("x = 1\nprint('x set')"),
				plan("Sub-task 2: crash."), code(kill.code),
				plan("Sub-task 3: the kernel restarted; print 7 * 6."), code("print(7 * 6)"),
				done("Recovered: 42."))
			m.run(t, row, llm, "--task", "survive a crash")
			told := anyPrompt(llm, "kernel died; restarted; variables lost")
			row.observed = fmt.Sprintf("exit %d; planner told: %v; next cell printed 42: %v", row.exitCode, told, anyPrompt(llm, "\n42"))
			m.check(t, row, is(row.exitCode == 0, "exit 0"), is(told, "the team is told"),
				is(anyPrompt(llm, "\n42"), "the next cell runs in the restarted kernel"),
				recordsValid(t, row, "terminated"), m.noKernels(t))
		})
	}

	t.Run("08-infinite-loop", func(t *testing.T) {
		row := &faultRow{n: 8, fault: "infinite loop (--cell-timeout 3s)", expected: "interrupted at the timeout; variables survive; the writer is told"}
		llm := scripted(t, nil,
			plan("Sub-task 1: set y."), code("y = 'kept'"),
			plan("Sub-task 2: loop."), code("while True:\n    pass"),
			plan("Sub-task 3: print y."), code("print(y)"),
			done("y survived."))
		m.run(t, row, llm, "--task", "loop", "--cell-timeout", "3s")
		told := anyPrompt(llm, "timed out after 3s and was interrupted")
		row.observed = fmt.Sprintf("exit %d; told: %v; y printed after: %v", row.exitCode, told, anyPrompt(llm, "\nkept"))
		m.check(t, row, is(row.exitCode == 0, "exit 0"), is(told, "the writer is told of the timeout"),
			is(anyPrompt(llm, "\nkept"), "variables survive"), recordsValid(t, row, "terminated"), m.noKernels(t))
	})

	t.Run("09-input", func(t *testing.T) {
		row := &faultRow{n: 9, fault: "a cell calls input()", expected: "fails at once; the writer is told input is not available"}
		llm := scripted(t, nil, plan("Sub-task 1: ask."), code("name = input('name? ')"), done("No input here."))
		m.run(t, row, llm, "--task", "ask", "--cell-timeout", "60s")
		told := anyPrompt(llm, "input() is not available")
		row.observed = fmt.Sprintf("exit %d in %s; told: %v", row.exitCode, row.duration.Round(100*time.Millisecond), told)
		m.check(t, row, is(row.exitCode == 0, "exit 0"), is(told, "the writer is told"),
			is(row.duration < 30*time.Second, "no wait for the 60 s timeout"), m.noKernels(t))
	})

	t.Run("10-50MB-output", func(t *testing.T) {
		row := &faultRow{n: 10, fault: "a cell prints 50 MB", expected: "the run goes on; analyst's peak RSS < 200 MB; the LLM sees only the capped text"}
		llm := scripted(t, nil,
			plan("Sub-task 1: print a lot."), code("import sys\nfor i in range(50):\n    sys.stdout.write(('%07d' % i) * 149796 + '\\n')"),
			plan("Sub-task 2: print done."), code("print('still here')"),
			done("Done."))
		m.run(t, row, llm, "--task", "flood", "--cell-timeout", "100s")
		reqs := llm.Requests()
		biggest := 0
		for _, r := range reqs {
			if n := len(r.Messages[len(r.Messages)-1].Content); n > biggest {
				biggest = n
			}
		}
		row.observed = fmt.Sprintf("exit %d; peak RSS %d MB; largest prompt message %d chars", row.exitCode, row.maxRSSKB/1024, biggest)
		m.check(t, row, is(row.exitCode == 0, "exit 0"), is(row.maxRSSKB > 0 && row.maxRSSKB < 200*1024, "peak RSS under 200 MB"),
			is(biggest <= 4000+300, "the LLM sees at most the cap"), is(anyPrompt(llm, "still here"), "the run goes on"), m.noKernels(t))
	})

	t.Run("11-kernel-gone", func(t *testing.T) {
		row := &faultRow{n: 11, fault: "the kernel is gone mid-run (404, as after a server restart); --rebuild-state", expected: "a new kernel; the team is told; successful cells re-run"}
		c, _ := jupyter.NewClient(jupyter.Config{URL: m.js.URL, Token: m.js.Token})
		step := 0
		var mu sync.Mutex
		script := []llmtest.Reply{
			plan("Sub-task 1: set x = 41."), code("x = 41\nprint('x is', x)"),
			plan("Sub-task 2: print x + 1."), code("print(x + 1)"),
			plan("Sub-task 3: print x + 1 again."), code("print(x + 1)"),
			done("x + 1 is 42."),
		}
		llm := llmtest.NewServer(t)
		llm.Respond(func(llmtest.Request) llmtest.Reply {
			mu.Lock()
			defer mu.Unlock()
			if step == 3 { // the server loses every kernel before cell 2
				ks, _ := c.ListKernels(context.Background())
				for _, k := range ks {
					c.DeleteKernel(context.Background(), k.ID)
				}
			}
			r := script[step]
			step++
			return r
		})
		m.run(t, row, llm, "--task", "x", "--rebuild-state")
		rebuilt := anyPrompt(llm, "state rebuilt by re-running 1 earlier cells (0 failed)")
		row.observed = fmt.Sprintf("exit %d; told state rebuilt: %v; 42 printed: %v", row.exitCode, rebuilt, anyPrompt(llm, "\n42"))
		m.check(t, row, is(row.exitCode == 0, "exit 0"), is(rebuilt, "the team is told the state was rebuilt"),
			is(anyPrompt(llm, "\n42"), "x is back"), is(strings.Contains(row.stdout, "was gone; new kernel"), "the new kernel is reported"),
			recordsValid(t, row, "terminated"), m.noKernels(t))
	})

	t.Run("12-websocket-dropped", func(t *testing.T) {
		row := &faultRow{n: 12, fault: "WebSocket dropped mid-cell (a proxy cuts every connection)", expected: "the cell's result arrives complete after reconnect"}
		p := newCutProxy(t, m.js.URL)
		llm := scripted(t, nil,
			plan("Sub-task 1: count slowly."),
			code("import time\nfor i in range(6):\n    print('tick', i, flush=True)\n    time.sleep(0.5)\nprint('complete')"),
			done("Counted."))
		// Cut every connection mid-cell, once "tick 2" has gone through the
		// proxy to analyst: between two outputs, as a network drop that the
		// protocol can recover from (the server buffers what comes after and
		// replays it to the same session). A byte the server had already
		// written into a connection that then breaks is lost to any client.
		p.watch("tick 2")
		go func() {
			select {
			case <-p.seen:
				p.cut()
			case <-time.After(60 * time.Second):
			}
		}()
		m.run(t, row, llm, "--task", "count", "--gateway-url", p.url)
		out := lastPrompt(llm)
		complete := strings.Contains(out, "tick 0\ntick 1\ntick 2\ntick 3\ntick 4\ntick 5\ncomplete")
		told := strings.Contains(out, "The connection to the kernel dropped during the cell and was restored")
		row.observed = fmt.Sprintf("exit %d; connections cut: %d; output complete: %v; LLM told of the drop: %v", row.exitCode, p.cuts(), complete, told)
		m.check(t, row, is(row.exitCode == 0, "exit 0"), is(p.cuts() > 0, "the proxy cut a connection"),
			is(complete, "every tick and 'complete' reached the LLM once, in order"),
			is(told, "the LLM is told the connection dropped"),
			is(fileHas(row.outDir, "events.jsonl", `"reconnected":true`) && fileHas(row.outDir, "analysis.ipynb", "connection to the kernel dropped during cell 1"),
				"the records say the cell's connection dropped"),
			m.noKernels(t))
	})

	t.Run("13-max-turns", func(t *testing.T) {
		row := &faultRow{n: 13, fault: "the writer never writes code; the planner never says TERMINATION", expected: "--max-turns stops it, exit 3, records kept"}
		llm := llmtest.NewServer(t)
		llm.Respond(func(r llmtest.Request) llmtest.Reply {
			return llmtest.Reply{Content: "Let me think about it some more."}
		})
		m.run(t, row, llm, "--task", "never ends", "--max-turns", "6")
		row.observed = fmt.Sprintf("exit %d; %s", row.exitCode, firstLineWith(row.stdout, "finished:"))
		m.check(t, row, is(row.exitCode == 3, "exit 3"), is(strings.Contains(row.stdout, "max-turns after 6 turns"), "the stop reason is shown"),
			recordsValid(t, row, "max-turns"), m.noKernels(t))
	})

	t.Run("14-signals", func(t *testing.T) {
		row := &faultRow{n: 14, fault: "SIGINT and SIGTERM at random moments, 20 trials (+2 double signals)", expected: "kernel count back to baseline, records valid, exit 130/143"}
		failed := signalTrials(t, m.bin, m.js, 22)
		row.observed = fmt.Sprintf("%d of 22 trials failed", failed)
		m.check(t, row, is(failed == 0, "every trial clean"))
	})

	t.Run("15-bad-input", func(t *testing.T) {
		row := &faultRow{n: 15, fault: "bad input: empty task, missing/dir --data, malformed URL, negative duration, unknown flag", expected: "exit 2, one line naming the bad value"}
		dir := t.TempDir()
		cases := [][]string{
			{"--task", ""},
			{"--task", "x", "--data", filepath.Join(dir, "missing.csv")},
			{"--task", "x", "--data", dir},
			{"--task", "x", "--gateway-url", "htp:/nowhere"},
			{"--task", "x", "--timeout", "-1s"},
			{"--task", "x", "--frobnicate"},
		}
		var bad []string
		for _, args := range cases {
			r := &faultRow{}
			m.run(t, r, nil, args...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.exitCode != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "analyst: ") {
				bad = append(bad, fmt.Sprintf("%v: exit %d, %q", args, r.exitCode, r.stderr))
			}
		}
		row.observed = fmt.Sprintf("%d of %d cases exit 2 with one line", len(cases)-len(bad), len(cases))
		m.check(t, row, is(len(bad) == 0, "all cases: %v", bad))
	})

	t.Run("16-hostile-names", func(t *testing.T) {
		row := &faultRow{n: 16, fault: "kernel output names a file ../../x (display filename metadata)", expected: "nothing written outside --out"}
		llm := scripted(t, nil,
			plan("Sub-task 1: display an image with a hostile name."),
			code("from IPython.display import display, Image\nimport base64\npng = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==')\ndisplay(Image(data=png), metadata={'filename': '../../x-escape.png'})\ndisplay({'image/png': base64.b64encode(png).decode()}, raw=True, metadata={'filename': '../../../x-escape.png'})"),
			done("Displayed."))
		m.run(t, row, llm, "--task", "names")
		var outside []string
		for d := row.outDir; d != "/" && len(outside) == 0; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(filepath.Dir(d), "x-escape.png")); err == nil {
				outside = append(outside, filepath.Join(filepath.Dir(d), "x-escape.png"))
			}
		}
		names, _ := filepath.Glob(filepath.Join(row.outDir, "*"))
		var base []string
		for _, n := range names {
			base = append(base, filepath.Base(n))
		}
		row.observed = fmt.Sprintf("exit %d; files in --out: %s; outside: %d", row.exitCode, strings.Join(base, " "), len(outside))
		m.check(t, row, is(row.exitCode == 0, "exit 0"), is(len(outside) == 0, "no file outside --out"),
			is(strings.Contains(strings.Join(base, " "), "figure-1.png figure-2.png"), "images saved under analyst's own names"))
	})
}

// fileHas reports whether the file dir/name contains sub.
func fileHas(dir, name, sub string) bool {
	b, err := os.ReadFile(filepath.Join(dir, name))
	return err == nil && strings.Contains(string(b), sub)
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func printFaultTable(w io.Writer, rows []*faultRow) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tFAULT\tEXPECTED\tOBSERVED\tPASS")
	passed := 0
	for _, r := range rows {
		mark := "FAIL"
		if r.pass {
			mark = "pass"
			passed++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.n, r.fault, r.expected, r.observed, mark)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, len(rows)-passed)
}

// cutProxy forwards TCP connections to a server and can cut them all at
// once, as a flaky network or a load balancer does.
type cutProxy struct {
	url string
	l   net.Listener

	mu      sync.Mutex
	conns   []net.Conn
	n       int
	pattern []byte
	seen    chan struct{} // closed once the server sent pattern to the client
	once    sync.Once
}

// watch makes seen close once the server has sent s to the client.
func (p *cutProxy) watch(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pattern = []byte(s)
}

// forward copies the server's bytes to the client, watching for the pattern
// (which may straddle two reads).
func (p *cutProxy) forward(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	var tail []byte
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			p.mu.Lock()
			pat := p.pattern
			p.mu.Unlock()
			if len(pat) > 0 {
				window := append(tail, buf[:n]...)
				if bytes.Contains(window, pat) {
					p.once.Do(func() { close(p.seen) })
				}
				tail = window[max(0, len(window)-len(pat)):]
			}
		}
		if err != nil {
			return
		}
	}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{url: "http://" + l.Addr().String(), l: l, seen: make(chan struct{})}
	t.Cleanup(func() { l.Close(); p.cut() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", u.Host)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { p.forward(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.n += len(p.conns) / 2
	p.conns = nil
}

func (p *cutProxy) cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}
