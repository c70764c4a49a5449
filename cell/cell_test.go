package cell

import (
	"errors"
	"testing"

	"github.com/analyst-dev/analyst/jupyter"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		c    Cell
		want Status
	}{
		{Cell{Skipped: "bash"}, Skipped},
		{Cell{Skip: NotPython}, Skipped},
		{Cell{Err: errors.New("x")}, Failed},
		{Cell{Restart: &Restart{}, Result: &jupyter.Result{}}, Failed},
		{Cell{}, Skipped},
		{Cell{Result: &jupyter.Result{Status: "ok"}}, OK},
		{Cell{Result: &jupyter.Result{Status: "error"}}, Error},
		{Cell{Result: &jupyter.Result{Error: &jupyter.ExecError{Name: "E"}}}, Error},
		{Cell{Result: &jupyter.Result{TimedOut: true}}, Timeout},
		{Cell{Result: &jupyter.Result{Canceled: true}}, Interrupted},
	}
	for _, tt := range tests {
		if got := tt.c.Status(); got != tt.want {
			t.Errorf("%+v.Status() = %q, want %q", tt.c, got, tt.want)
		}
	}
}
