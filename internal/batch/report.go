package batch

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Status is how a task of a batch ended.
type Status string

// The statuses of a task.
const (
	Passed      Status = "passed"      // it finished and met every expectation
	Failed      Status = "failed"      // a limit, an error or an unmet expectation
	Interrupted Status = "interrupted" // the batch was interrupted first
)

// Result is how one task went.
type Result struct {
	Name   string
	Status Status
	// Reason says why the task did not pass; empty when it did.
	Reason           string
	Turns            int
	PromptTokens     int
	CompletionTokens int
	// Cost is the run's cost in USD, when its prices are known.
	Cost     *float64
	Duration time.Duration
	// Records is the task's records folder.
	Records string
}

// The names of the files a batch writes in its output folder.
const (
	SummaryFile = "summary.json"
	JUnitFile   = "junit.xml"
)

type summaryJSON struct {
	Passed int          `json:"passed"`
	Failed int          `json:"failed"`
	Tasks  []resultJSON `json:"tasks"`
}

type resultJSON struct {
	Name       string     `json:"name"`
	Status     Status     `json:"status"`
	Reason     string     `json:"reason,omitempty"`
	Turns      int        `json:"turns"`
	Tokens     tokensJSON `json:"tokens"`
	Cost       *float64   `json:"cost,omitempty"`
	DurationMS int64      `json:"duration_ms"`
	Records    string     `json:"records"`
}

type tokensJSON struct {
	Prompt     int `json:"prompt"`
	Completion int `json:"completion"`
}

// WriteSummary writes the results as summary.json in dir.
func WriteSummary(dir string, results []Result) error {
	s := summaryJSON{Tasks: make([]resultJSON, 0, len(results))}
	for _, r := range results {
		if r.Status == Passed {
			s.Passed++
		} else {
			s.Failed++
		}
		s.Tasks = append(s.Tasks, resultJSON{
			Name:       r.Name,
			Status:     r.Status,
			Reason:     r.Reason,
			Turns:      r.Turns,
			Tokens:     tokensJSON{r.PromptTokens, r.CompletionTokens},
			Cost:       r.Cost,
			DurationMS: r.Duration.Milliseconds(),
			Records:    r.Records,
		})
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, SummaryFile), append(b, '\n'))
}

// JUnitSuite is the JUnit XML testsuite element, as written to junit.xml.
type JUnitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []JUnitCase `xml:"testcase"`
}

// JUnitCase is one testcase element: a task.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitProblem `xml:"failure"`
	Error     *JUnitProblem `xml:"error"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitProblem is a failure or error element.
type JUnitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// The names JUnit consumers show for the batch.
const (
	JUnitSuiteName = "analyst batch"
	JUnitClassname = "analyst.batch"
)

// WriteJUnit writes the results as junit.xml in dir: one testsuite, one
// testcase per task. A failed task carries a failure whose message is the
// reason; an interrupted one an error with the message "interrupted".
// elapsed is the batch's wall-clock time.
func WriteJUnit(dir string, results []Result, elapsed time.Duration) error {
	s := JUnitSuite{Name: JUnitSuiteName, Tests: len(results), Time: seconds(elapsed)}
	for _, r := range results {
		c := JUnitCase{Name: r.Name, Classname: JUnitClassname, Time: seconds(r.Duration), SystemOut: "records: " + r.Records}
		switch r.Status {
		case Failed:
			s.Failures++
			c.Failure = &JUnitProblem{Message: r.Reason, Type: "failed", Text: r.Reason}
		case Interrupted:
			s.Errors++
			c.Error = &JUnitProblem{Message: r.Reason, Type: "interrupted", Text: r.Reason}
		}
		s.Cases = append(s.Cases, c)
	}
	b, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, JUnitFile), append([]byte(xml.Header), append(b, '\n')...))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// writeFile writes b to path through a temporary file, so that a reader
// never sees half of it.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
