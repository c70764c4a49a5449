package record

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path/filepath"

	"github.com/analyst-dev/analyst/internal/termsafe"
)

// ReportHTMLFile is report.md rendered for a browser: one self-contained
// file, its figures embedded.
const ReportHTMLFile = "report.html"

// figureMIME is the MIME type of each figure extension the executor writes.
var figureMIME = map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml"}

// reportHTML renders report.html from the same view as report.md. Every text
// is escaped by html/template; figures are read from the records and
// embedded as data: URLs, so the file opens anywhere without its folder.
func (r *Recorder) reportHTML(v reportView) ([]byte, error) {
	figures := map[string]template.URL{}
	for _, req := range v.Requests {
		for _, f := range req.Figures {
			b, err := os.ReadFile(filepath.Join(r.dir, f))
			if err != nil {
				continue // shown by its name only
			}
			figures[f] = template.URL("data:" + figureMIME[filepath.Ext(f)] + ";base64," + base64.StdEncoding.EncodeToString(b))
		}
	}
	var b bytes.Buffer
	err := reportTemplate.Execute(&b, struct {
		reportView
		Figures map[string]template.URL
	}{v, figures})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", ReportHTMLFile, err)
	}
	// As report.md: control characters are shown, not obeyed, by a
	// terminal that shows the file.
	return []byte(termsafe.String(b.String())), nil
}

var reportTemplate = template.Must(template.New(ReportHTMLFile).Funcs(template.FuncMap{
	"group": func(n int64) string { return group(int(n)) },
	"add":   func(a, b int) int { return a + b },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Analysis report: {{.Task}}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1, h2, h3 { line-height: 1.2; }
.text { white-space: pre-wrap; }
.incomplete { border-left: 4px solid #c60; padding: .5rem 1rem; background: #fff4e5; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; }
img { max-width: 100%; height: auto; }
code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>Analysis report</h1>
{{if .Incomplete}}<p class="incomplete"><strong>Incomplete run:</strong> the recording stopped before the run finished (it crashed or was interrupted). Everything up to that moment is below.</p>
{{end}}
<h2>Task</h2>
<p class="text">{{.Task}}</p>
{{with .Data}}<p>Data:</p>
<ul>
{{range .}}<li><code>{{.Name}}</code> ({{group .Size}} bytes, sha256 {{.SHA256}})</li>
{{end}}</ul>
{{end}}
{{range $i, $req := .Requests}}
{{if $i}}<h2>Request {{add $i 1}}</h2>
<p class="text">{{$req.Text}}</p>
{{end}}
<h3>Summary</h3>
{{if $req.Final}}<div class="text">{{$req.Summary}}</div>{{else}}<p><em>The planner wrote no summary: the run stopped before it was done.</em></p>{{end}}
{{with $req.Figures}}<h3>Figures</h3>
{{range .}}<figure>{{with index $.Figures .}}<img src="{{.}}" alt="">{{end}}<figcaption>{{.}}</figcaption></figure>
{{end}}{{end}}
{{with $req.Steps}}<h3>Steps</h3>
<table>
<thead><tr><th>Step</th><th>Sub-task</th><th>Cells</th><th>Status</th><th>Duration</th></tr></thead>
<tbody>
{{range .}}<tr><td class="n">{{.N}}</td><td>{{.Title}}</td><td>{{.Cells}}</td><td>{{.Status}}</td><td class="n">{{.Duration}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
{{end}}
<h2>Usage</h2>
<table>
<thead><tr><th>Agent</th><th>Model</th><th>Prompt tokens</th><th>Completion tokens</th><th>Total tokens</th></tr></thead>
<tbody>
{{range .Usage}}<tr><td>{{.Agent}}</td><td>{{.Model}}</td><td class="n">{{.Prompt}}</td><td class="n">{{.Completion}}</td><td class="n">{{.Total}}</td></tr>
{{end}}<tr><th>Total</th><td></td><td class="n">{{.Total.Prompt}}</td><td class="n">{{.Total.Completion}}</td><td class="n">{{.Total.Total}}</td></tr>
</tbody>
</table>
{{if .Estimated}}<p>~ marks counts estimated from the text: the server reported no usage.</p>
{{end}}{{with .Cost}}<p>Cost: {{.}}</p>
{{end}}
<h2>Run</h2>
<ul>
{{range .Run}}<li>{{.}}</li>
{{end}}</ul>
</body>
</html>
`))
