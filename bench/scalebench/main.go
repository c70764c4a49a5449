package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
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
	ns := flag.String("n", "1,4,16,32", "comma-separated numbers of concurrent sessions")
	launch := flag.Duration("launch-timeout", 120*time.Second, "analyst's --launch-timeout")
	flag.Parse()
	counts, err := benchkit.Counts(*ns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scalebench:", err)
		os.Exit(2)
	}
	if err := run(ctx, counts, *launch, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scalebench:", err)
		os.Exit(1)
	}
}

// The scripted team: the planner asks for one step, the writer answers with
// this cell, and once the cell's output is in the history the planner ends.
const (
	cell = "import pandas as pd\n" +
		"df = pd.DataFrame({'region': ['East', 'West'] * 500, 'sales': range(1000)})\n" +
		"print(df.groupby('region')['sales'].sum().to_string())"
	cellOutput = "West    250000" // the cell prints East 249500, West 250000
)

// respond plays the script for every session at once: the model names
// which agent asks, the history how far it got.
func respond(req llmtest.Request) llmtest.Reply {
	if req.Model == "writer" {
		return llmtest.Reply{Content: "Here is the code.\n```python\n" + cell + "\n```"}
	}
	for _, m := range req.Messages {
		if strings.Contains(m.Content, cellOutput) {
			return llmtest.Reply{Content: "West sold 250000 and East 249500.\nTERMINATION"}
		}
	}
	return llmtest.Reply{Content: "Sub-task 1: total the sales per region with pandas and print them."}
}

// result is one phase's line of the table.
type result struct {
	n, ok        int
	wall         time.Duration
	peakRSS      int64         // bytes, max over the sessions
	analystCPU   time.Duration // user+sys of every analyst process
	gatewayCPU   time.Duration // user+sys of the server and its kernels
	ready        []time.Duration
	firstFailure string
}

func run(ctx context.Context, counts []int, launch time.Duration, out io.Writer) error {
	dir, err := os.MkdirTemp("", "scalebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := benchkit.Build(ctx, dir)
	if err != nil {
		return err
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
	tb := &llmtest.Standalone{}
	defer tb.Close()
	llm := llmtest.NewServer(tb)
	llm.Respond(respond)

	var results []result
	for _, n := range counts {
		r, err := phase(ctx, bin, dir, srv, llm.URL, n, launch)
		if err != nil {
			return err
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "scalebench: N=%d done: %d/%d in %s\n", n, r.ok, n, r.wall.Round(10*time.Millisecond))
	}
	if err := tb.Err(); err != nil {
		return err
	}
	printTable(out, results)
	return nil
}

// phase runs n sessions at once.
func phase(ctx context.Context, bin, dir string, srv *jupytertest.Server, llmURL string, n int, launch time.Duration) (result, error) {
	r := result{n: n}
	before, err := treeCPU(os.Getpid(), "analyst")
	if err != nil {
		return r, err
	}
	type session struct {
		ok     bool
		rss    int64
		cpu    time.Duration
		ready  time.Duration
		failed string
	}
	sessions := make([]session, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			s := &sessions[i]
			var buf bytes.Buffer
			cmd := benchkit.Run(ctx, bin, srv, llmURL,
				"--task", "Total sales per region.",
				"--max-turns", "6", "--launch-timeout", launch.String(),
				"--out", filepath.Join(dir, "runs", fmt.Sprintf("n%d-%d", n, i)))
			cmd.Stdout, cmd.Stderr = &buf, &buf
			err := cmd.Run()
			u := benchkit.UsageOf(cmd.ProcessState)
			s.rss, s.cpu = u.PeakRSS, u.CPU()
			text := buf.String()
			s.ready = readyIn(text)
			s.ok = err == nil // exit 0: the planner finished
			if !s.ok {
				s.failed = fmt.Sprintf("session %d: %v: %s", i, err, benchkit.LastLines(text, 3))
			}
		})
	}
	wg.Wait()
	r.wall = time.Since(start)
	if err := ctx.Err(); err != nil {
		return r, err
	}
	// Deleted kernels are reaped by the server within moments; a kernel not
	// yet reaped is still counted as a live process.
	waitTimer(ctx, 2*time.Second)
	after, err := treeCPU(os.Getpid(), "analyst")
	if err != nil {
		return r, err
	}
	r.gatewayCPU = after - before
	for _, s := range sessions {
		if s.ok {
			r.ok++
		} else if r.firstFailure == "" {
			r.firstFailure = s.failed
		}
		r.peakRSS = max(r.peakRSS, s.rss)
		r.analystCPU += s.cpu
		if s.ready > 0 {
			r.ready = append(r.ready, s.ready)
		}
	}
	if r.firstFailure != "" {
		fmt.Fprintln(os.Stderr, "scalebench:", r.firstFailure)
	}
	return r, nil
}

// waitTimer waits d or until ctx ends.
func waitTimer(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// readyRE matches the kernel-ready notice: "kernel 1a2b3c4d (python3) ready in 1.23s".
var readyRE = regexp.MustCompile(`\) ready in ([0-9.]+(?:ms|s|m[0-9.]*s?))`)

// readyIn returns the kernel start latency analyst reported, or 0.
func readyIn(out string) time.Duration {
	m := readyRE.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	d, _ := time.ParseDuration(m[1])
	return d
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// treeCPU returns the CPU time (user+sys, including reaped children's) of
// every live descendant of pid whose command is not skip.
func treeCPU(pid int, skip string) (time.Duration, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	type proc struct {
		ppid int
		comm string
		cpu  time.Duration
	}
	procs := map[int]proc{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17)
		s := string(b)
		lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if lp < 0 || rp < lp {
			continue
		}
		f := strings.Fields(s[rp+1:])
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		var ticks int64
		for _, i := range []int{11, 12, 13, 14} {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += v
		}
		procs[p] = proc{ppid: ppid, comm: s[lp+1 : rp], cpu: time.Duration(ticks) * clockTick}
	}
	if _, ok := procs[pid]; !ok {
		return 0, errors.New("cannot read /proc: the CPU share needs Linux")
	}
	var total time.Duration
	for p, pr := range procs {
		if p == pid || pr.comm == skip {
			continue
		}
		for a := pr.ppid; a > 1; a = procs[a].ppid {
			if a == pid {
				total += pr.cpu
				break
			}
			if _, ok := procs[a]; !ok {
				break
			}
		}
	}
	return total, nil
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func printTable(out io.Writer, rs []result) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "N\tok\twall\tsessions/min\tpeak RSS\tanalyst CPU\tgateway+kernels CPU\tanalyst share\tkernel ready p50\tp95\t")
	for _, r := range rs {
		share := 0.0
		if t := r.analystCPU + r.gatewayCPU; t > 0 {
			share = 100 * float64(r.analystCPU) / float64(t)
		}
		fmt.Fprintf(w, "%d\t%d/%d\t%.1fs\t%.1f\t%.1f MB\t%.2fs\t%.1fs\t%.1f %%\t%s\t%s\t\n",
			r.n, r.ok, r.n, r.wall.Seconds(), float64(r.ok)/r.wall.Minutes(),
			float64(r.peakRSS)/1e6, r.analystCPU.Seconds(), r.gatewayCPU.Seconds(), share,
			percentile(r.ready, 50).Round(10*time.Millisecond), percentile(r.ready, 95).Round(10*time.Millisecond))
	}
	w.Flush()
}
