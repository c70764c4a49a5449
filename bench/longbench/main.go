package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/benchkit"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ns := flag.String("n", "10,20,40", "comma-separated numbers of extra steps")
	var cfg config
	flag.StringVar(&cfg.bin, "bin", "", "analyst binary to run (default: built from the working tree)")
	flag.IntVar(&cfg.rows, "rows", 52000, "rows each later cell prints (52000 is about 1 MB; 1 measures the cost of the cells themselves)")
	flag.DurationVar(&cfg.pace.FirstDelta, "first-token", 0, "the scripted LLM's time to its first token (0: at once)")
	tps := flag.Float64("tokens-per-second", 0, "the scripted LLM's tokens per second after the first (0: at once)")
	flag.Parse()
	if *tps > 0 {
		cfg.pace.PerDelta = time.Duration(float64(time.Second) / *tps)
	}
	cfg.extra = flag.Args()
	counts, err := benchkit.Counts(*ns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "longbench:", err)
		os.Exit(2)
	}
	if err := run(ctx, counts, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "longbench:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	bin   string
	extra []string // more flags for analyst run
	rows  int
	pace  llmtest.Pace
}

// The script. The first step's cell prints the answer; each later one prints
// rows numbered rows (about 1 MB for 52000).
const (
	answerCell = "answer = 4242.42\nprint('answer:', answer)"
	answer     = "4242.42"
	rowsCell   = "print('\\n'.join('row %%d value %%.3f' %% (i, i * 0.37) for i in range(%d)))"
)

var (
	cellRE    = regexp.MustCompile(`\[cell (\d+)\]`)
	subtaskRE = regexp.MustCompile(`Sub-task (\d+)`)
)

// script answers as the planner (model "planner") or the writer, and counts
// the prompts' tokens.
type script struct {
	steps int    // extra steps after the first
	cell  string // the code of the later steps

	mu          sync.Mutex
	requests    int
	maxPrompt   int
	totalPrompt int
	recall      bool
}

func (s *script) respond(req llmtest.Request) llmtest.Reply {
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(m.Content)
	}
	tokens := (prompt + 3) / 4
	s.mu.Lock()
	s.requests++
	s.maxPrompt = max(s.maxPrompt, tokens)
	s.totalPrompt += tokens
	s.mu.Unlock()

	last := req.Messages[len(req.Messages)-1].Content
	if req.Model == "writer" {
		k := 1
		if m := subtaskRE.FindAllStringSubmatch(last, -1); m != nil {
			k, _ = strconv.Atoi(m[len(m)-1][1])
		}
		code := s.cell
		if k == 1 {
			code = answerCell
		}
		return llmtest.Reply{Content: fmt.Sprintf("Step %d.\n```python\n%s\n```", k, code)}
	}
	done := 0
	for _, m := range req.Messages {
		for _, c := range cellRE.FindAllStringSubmatch(m.Content, -1) {
			n, _ := strconv.Atoi(c[1])
			done = max(done, n)
		}
	}
	if done < s.steps+1 {
		return llmtest.Reply{Content: fmt.Sprintf("Sub-task %d: print the next table.", done+1)}
	}
	found := false
	for _, m := range req.Messages {
		found = found || strings.Contains(m.Content, answer)
	}
	s.mu.Lock()
	s.recall = found
	s.mu.Unlock()
	if found {
		return llmtest.Reply{Content: "The answer is " + answer + ".\nTERMINATION"}
	}
	return llmtest.Reply{Content: "The answer is no longer in view.\nTERMINATION"}
}

// result is one line of the table.
type result struct {
	n    int
	wall time.Duration
	benchkit.Usage
	first, nth       time.Duration
	nthIndex         int
	maxPrompt, total int
	requests         int
	recall           bool
}

func run(ctx context.Context, counts []int, cfg config, out io.Writer) error {
	dir, err := os.MkdirTemp("", "longbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if cfg.bin == "" {
		if cfg.bin, err = benchkit.Build(ctx, dir); err != nil {
			return err
		}
	}
	work := filepath.Join(dir, "kernels")
	if err := os.Mkdir(work, 0o755); err != nil {
		return err
	}
	srv, err := jupytertest.Launch(work)
	if err != nil {
		return err
	}
	defer srv.Stop()

	var results []result
	for _, n := range counts {
		r, err := once(ctx, cfg, dir, srv, n)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "longbench: N=%d done in %s\n", n, r.wall.Round(10*time.Millisecond))
	}
	fmt.Fprintf(out, "later cells print %d rows; scripted LLM: %s\n", cfg.rows, paceLabel(cfg.pace))
	printTable(out, results)
	return nil
}

// once runs one analysis of n extra steps.
func once(ctx context.Context, cfg config, dir string, srv *jupytertest.Server, n int) (result, error) {
	r := result{n: n}
	tb := &llmtest.Standalone{}
	defer tb.Close()
	sc := &script{steps: n, cell: fmt.Sprintf(rowsCell, cfg.rows)}
	llm := llmtest.NewServer(tb)
	llm.Respond(sc.respond)
	llm.SetPace(cfg.pace)
	outDir := filepath.Join(dir, "runs", fmt.Sprintf("n%d", n))
	args := append([]string{
		"--task", "Profile the table step by step and report the answer.",
		"--max-turns", strconv.Itoa(3*n + 10), "--out", outDir}, cfg.extra...)
	cmd := benchkit.Run(ctx, cfg.bin, srv, llm.URL, args...)
	log, err := os.Create(filepath.Join(dir, fmt.Sprintf("n%d.log", n)))
	if err != nil {
		return r, err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	start := time.Now()
	err = cmd.Run()
	r.wall = time.Since(start)
	r.Usage = benchkit.UsageOf(cmd.ProcessState)
	if err != nil {
		text, _ := os.ReadFile(log.Name())
		return r, fmt.Errorf("analyst run: %v: %s", err, benchkit.LastLines(string(text), 5))
	}
	if err := tb.Err(); err != nil {
		return r, err
	}
	costs, err := recordCosts(filepath.Join(outDir, "events.jsonl"))
	if err != nil {
		return r, err
	}
	if len(costs) > 1 { // costs[0] is the answer's small cell
		r.first = costs[1]
		r.nthIndex = min(40, len(costs)-1)
		r.nth = costs[r.nthIndex]
	}
	sc.mu.Lock()
	r.maxPrompt, r.total, r.requests, r.recall = sc.maxPrompt, sc.totalPrompt, sc.requests, sc.recall
	sc.mu.Unlock()
	return r, nil
}

// recordCosts returns, for each cell in order, the time from its
// cell_finished event to the next event of the run: what analyst spent
// after the kernel's reply before it went on.
func recordCosts(path string) ([]time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var costs []time.Duration
	var finished time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e struct {
			Type string    `json:"type"`
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if !finished.IsZero() && e.Type == "message" {
			costs = append(costs, e.Time.Sub(finished))
			finished = time.Time{}
		}
		if e.Type == "cell_finished" {
			finished = e.Time
		}
	}
	return costs, sc.Err()
}

// paceLabel words the scripted LLM's pace.
func paceLabel(p llmtest.Pace) string {
	if p == (llmtest.Pace{}) {
		return "answers at once"
	}
	tps := "at once after it"
	if p.PerDelta > 0 {
		tps = fmt.Sprintf("%.0f tokens/s after it", float64(time.Second)/float64(p.PerDelta))
	}
	return fmt.Sprintf("first token after %s, %s", p.FirstDelta, tps)
}

func printTable(out io.Writer, rs []result) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "N\twall\tanalyst CPU\tuser + sys\tCPU share\tpeak RSS\trecords, 1st MB cell\tk-th MB cell\tmax prompt\ttotal prompt\trequests\trecall\t")
	for _, r := range rs {
		fmt.Fprintf(w, "%d\t%.1fs\t%.2fs\t%.2f + %.2f\t%.1f %%\t%.0f MB\t%s\t%s (k=%d)\t%d\t%d\t%d\t%v\t\n",
			r.n, r.wall.Seconds(), r.CPU().Seconds(), r.User.Seconds(), r.Sys.Seconds(), 100*r.CPU().Seconds()/r.wall.Seconds(),
			float64(r.PeakRSS)/1e6, r.first.Round(time.Millisecond), r.nth.Round(time.Millisecond), r.nthIndex,
			r.maxPrompt, r.total, r.requests, r.recall)
	}
	w.Flush()
}
