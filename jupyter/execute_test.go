package jupyter_test

import (
	"testing"

	"github.com/analyst-dev/analyst/jupyter"
)

func TestStateKeptAcrossCells(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	run(t, s, "x = 41")
	res := run(t, s, "x + 1")
	if res.Status != "ok" || len(res.Outputs) != 1 {
		t.Fatalf("result = %+v", res)
	}
	o := res.Outputs[0]
	if o.Type != "execute_result" || o.Data["text/plain"] != "42" {
		t.Errorf("output = %+v, want execute_result 42", o)
	}
	if o.ExecutionCount != res.ExecutionCount || res.ExecutionCount != 2 {
		t.Errorf("execution counts = %d/%d, want 2", o.ExecutionCount, res.ExecutionCount)
	}
}
