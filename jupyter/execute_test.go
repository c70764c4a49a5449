package jupyter_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

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

// kinds summarises outputs as "type[:name]" for comparison.
func kinds(outs []jupyter.Output) []string {
	var ks []string
	for _, o := range outs {
		k := o.Type
		if o.Name != "" {
			k += ":" + o.Name
		}
		ks = append(ks, k)
	}
	return ks
}

func TestOutputKinds(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	const pngB64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>`

	tests := []struct {
		name  string
		code  string
		kinds []string
		check func(t *testing.T, res *jupyter.Result)
	}{{
		name: "streams merged in order",
		code: `import sys
print("a", flush=True)
print("b", file=sys.stderr, flush=True)
print("c", flush=True)
print("d", flush=True)`,
		kinds: []string{"stream:stdout", "stream:stderr", "stream:stdout"},
		check: func(t *testing.T, res *jupyter.Result) {
			got := []string{res.Outputs[0].Text, res.Outputs[1].Text, res.Outputs[2].Text}
			if want := []string{"a\n", "b\n", "c\nd\n"}; !reflect.DeepEqual(got, want) {
				t.Errorf("texts = %q, want %q", got, want)
			}
		},
	}, {
		name:  "execute_result",
		code:  `{"k": 1}`,
		kinds: []string{"execute_result"},
		check: func(t *testing.T, res *jupyter.Result) {
			if res.Outputs[0].Data["text/plain"] != "{'k': 1}" || res.Outputs[0].ExecutionCount == 0 {
				t.Errorf("output = %+v", res.Outputs[0])
			}
		},
	}, {
		name: "display bundles",
		code: `import base64
from IPython.display import display, Image, SVG, HTML, JSON
display(Image(data=base64.b64decode("` + pngB64 + `"), format="png"))
display(Image(data=b"\xff\xd8\xff\xe0 not really a jpeg", format="jpeg"))
display(SVG('` + svg + `'))
display(HTML("<b>bold</b>"))
display(JSON({"a": [1, 2]}))`,
		kinds: []string{"display_data", "display_data", "display_data", "display_data", "display_data"},
		check: func(t *testing.T, res *jupyter.Result) {
			mime, data, ok := image(res.Outputs[0])
			if want, _ := base64Decode(pngB64); !ok || mime != "image/png" || !bytes.Equal(data, want) {
				t.Errorf("png image = %q, %d bytes, %v", mime, len(data), ok)
			}
			if mime, data, ok := image(res.Outputs[1]); !ok || mime != "image/jpeg" || !bytes.HasPrefix(data, []byte("\xff\xd8")) {
				t.Errorf("jpeg image = %q, %q, %v", mime, data, ok)
			}
			if got := res.Outputs[2].Data["image/svg+xml"]; got != svg {
				t.Errorf("svg = %v", got)
			}
			if got := res.Outputs[3].Data["text/html"]; got != "<b>bold</b>" {
				t.Errorf("html = %v", got)
			}
			want := map[string]any{"a": []any{float64(1), float64(2)}}
			if got := res.Outputs[4].Data["application/json"]; !reflect.DeepEqual(got, want) {
				t.Errorf("json = %#v, want %#v", got, want)
			}
			for i, o := range res.Outputs {
				if _, ok := o.Data["text/plain"]; !ok {
					t.Errorf("output %d lost its text/plain: %v", i, o.Data)
				}
			}
		},
	}, {
		name: "update_display_data",
		code: `from IPython.display import display
h = display("first", display_id=True)
print("between", flush=True)
h.update("second")`,
		kinds: []string{"display_data", "stream:stdout"},
		check: func(t *testing.T, res *jupyter.Result) {
			if o := res.Outputs[0]; o.Data["text/plain"] != "'second'" || o.DisplayID == "" {
				t.Errorf("display = %+v, want the updated 'second'", o)
			}
		},
	}, {
		name: "clear_output",
		code: `from IPython.display import clear_output
print("gone", flush=True)
clear_output()
print("kept", flush=True)`,
		kinds: []string{"stream:stdout"},
		check: func(t *testing.T, res *jupyter.Result) {
			if res.Outputs[0].Text != "kept\n" {
				t.Errorf("text = %q", res.Outputs[0].Text)
			}
		},
	}, {
		name: "clear_output wait",
		code: `from IPython.display import clear_output, display
print("old", flush=True)
clear_output(wait=True)
display("new")`,
		kinds: []string{"display_data"},
		check: func(t *testing.T, res *jupyter.Result) {
			if res.Outputs[0].Data["text/plain"] != "'new'" {
				t.Errorf("output = %+v", res.Outputs[0])
			}
		},
	}, {
		name: "matplotlib figure",
		code: `%matplotlib inline
import matplotlib.pyplot as plt
plt.plot([1, 3, 2])
plt.show()`,
		kinds: []string{"display_data"},
		check: func(t *testing.T, res *jupyter.Result) {
			mime, data, ok := image(res.Outputs[0])
			if !ok || mime != "image/png" || !bytes.HasPrefix(data, []byte("\x89PNG")) {
				t.Errorf("figure = %q, %d bytes, %v; data keys %v", mime, len(data), ok, keys(res.Outputs[0].Data))
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, s, tt.code)
			if res.Error != nil {
				t.Fatalf("cell raised %v\n%s", res.Error, res.Error.PlainTraceback())
			}
			if got := kinds(res.Outputs); !reflect.DeepEqual(got, tt.kinds) {
				t.Fatalf("outputs = %v, want %v\n%+v", got, tt.kinds, res.Outputs)
			}
			tt.check(t, res)
		})
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestPythonErrors(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})

	t.Run("with ANSI", func(t *testing.T) {
		res := run(t, s, "def f():\n    return 1/0\nf()")
		e := res.Error
		if res.Status != "error" || e == nil || e.Name != "ZeroDivisionError" || e.Value != "division by zero" {
			t.Fatalf("status %q, error %+v", res.Status, e)
		}
		if !strings.Contains(strings.Join(e.Traceback, ""), "\x1b[") {
			t.Errorf("traceback has no ANSI codes: %q", e.Traceback)
		}
		plain := e.PlainTraceback()
		if strings.Contains(plain, "\x1b") || !strings.Contains(plain, "ZeroDivisionError") || !strings.Contains(plain, "return 1/0") {
			t.Errorf("plain traceback = %q", plain)
		}
		if got := kinds(res.Outputs); !reflect.DeepEqual(got, []string{"error"}) || res.Outputs[0].Text != plain {
			t.Errorf("outputs = %+v", res.Outputs)
		}
	})
	t.Run("without ANSI", func(t *testing.T) {
		run(t, s, "%colors NoColor")
		res := run(t, s, "raise ValueError('bad value')")
		e := res.Error
		if e == nil || e.Name != "ValueError" || e.Value != "bad value" {
			t.Fatalf("error = %+v", e)
		}
		if tb := strings.Join(e.Traceback, "\n"); strings.Contains(tb, "\x1b") || e.PlainTraceback() != tb {
			t.Errorf("traceback = %q", tb)
		}
	})
	t.Run("stop on error keeps state", func(t *testing.T) {
		res := run(t, s, "y = 5\nraise KeyError('k')")
		if res.Error == nil || res.Error.Name != "KeyError" {
			t.Fatalf("error = %+v", res.Error)
		}
		if got := run(t, s, "y").Outputs[0].Data["text/plain"]; got != "5" {
			t.Errorf("y = %v", got)
		}
	})
	t.Run("input refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := s.Execute(ctx, "input('name? ')")
		if err != nil {
			t.Fatal(err)
		}
		if res.Error == nil || res.Error.Name != "StdinNotImplementedError" {
			t.Errorf("error = %+v, want StdinNotImplementedError", res.Error)
		}
	})
}

func TestCellTimeoutInterrupts(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{CellTimeout: time.Second})
	run(t, s, "kept = 7")
	res := run(t, s, "import time\nprint('started', flush=True)\ntime.sleep(60)")
	if !res.TimedOut || res.Canceled {
		t.Fatalf("TimedOut=%v Canceled=%v", res.TimedOut, res.Canceled)
	}
	if res.Error == nil || res.Error.Name != "KeyboardInterrupt" {
		t.Errorf("error = %+v, want KeyboardInterrupt", res.Error)
	}
	if !strings.Contains(res.Text(), "started") {
		t.Errorf("partial output lost: %q", res.Text())
	}
	if got := run(t, s, "kept").Outputs[0].Data["text/plain"]; got != "7" {
		t.Errorf("kept = %v after the interrupt, want 7", got)
	}
}

func TestCancelInterrupts(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	run(t, s, "kept = 8")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res, err := s.Execute(ctx, "import time\nprint('started', flush=True)\ntime.sleep(60)")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's error", err)
	}
	if res == nil || !res.Canceled || res.TimedOut {
		t.Fatalf("result = %+v", res)
	}
	if res.Error == nil || res.Error.Name != "KeyboardInterrupt" || !strings.Contains(res.Text(), "started") {
		t.Errorf("error %+v, text %q", res.Error, res.Text())
	}
	if got := run(t, s, "kept").Outputs[0].Data["text/plain"]; got != "8" {
		t.Errorf("kept = %v after the cancel, want 8", got)
	}
}

func TestKernelDiesMidCell(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	run(t, s, "before = 1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.Execute(ctx, "import os\nos._exit(1)")
	if !errors.Is(err, jupyter.ErrKernelDied) {
		t.Fatalf("err = %v, want ErrKernelDied within 5 s", err)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer rcancel()
	if err := s.Restart(rctx); err != nil {
		t.Fatal(err)
	}
	srv, _ := newClient(t)
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", srv.Log())
		}
	}()
	res := run(t, s, "'before' in globals(), 2 + 2")
	if got := res.Outputs[0].Data["text/plain"]; got != "(False, 4)" {
		t.Errorf("after restart: %v", got)
	}

	// Without Restart: the server restarted the kernel by itself, and the
	// next cell runs on a fresh connection to it.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if _, err := s.Execute(ctx2, "import os\nos._exit(1)"); !errors.Is(err, jupyter.ErrKernelDied) {
		t.Fatalf("second death: err = %v, want ErrKernelDied within 5 s", err)
	}
	if got := run(t, s, "3 * 3").Outputs[0].Data["text/plain"]; got != "9" {
		t.Errorf("after the server's own restart: %v", got)
	}
}

func TestOutputBounded(t *testing.T) {
	const bound = 1 << 20
	_, s := newSession(t, jupyter.SessionOptions{MaxOutputBytes: bound})
	// 50 MB in flushed 64 KiB chunks: the server passes the first few MB
	// before its own IOPub rate limit drops the rest.
	res := run(t, s, "import sys\nfor _ in range(800):\n    sys.stdout.write('x' * (1 << 16)); sys.stdout.flush()\nprint('done')")
	kept := 0
	for _, o := range res.Outputs {
		kept += len(o.Text)
	}
	if kept > bound {
		t.Errorf("kept %d bytes, bound %d", kept, bound)
	}
	if res.DroppedBytes == 0 {
		t.Errorf("DroppedBytes = 0, kept %d", kept)
	}
	if res.Status != "ok" {
		t.Errorf("status %q", res.Status)
	}
	t.Logf("kept %d, dropped %d bytes, %d outputs", kept, res.DroppedBytes, len(res.Outputs))
}

func TestUpload(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	data := make([]byte, 20<<20+12345)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "local.bin")
	if err := os.WriteFile(local, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	before := run(t, s, "1").ExecutionCount

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := s.Upload(ctx, local, "data file.bin"); err != nil {
		t.Fatal(err)
	}
	res := run(t, s, `import hashlib, os
print(hashlib.sha256(open("data file.bin", "rb").read()).hexdigest())
print(sorted(f for f in os.listdir(".") if "upload" in f))`)
	want := hex.EncodeToString(sum[:]) + "\n[]\n"
	if got := res.Text(); got != want {
		t.Errorf("in the kernel: %q, want %q", got, want)
	}
	if res.ExecutionCount != before+1 {
		t.Errorf("execution count %d after upload, want %d: upload cells must be silent", res.ExecutionCount, before+1)
	}

	for _, name := range []string{"", ".", "..", "a/b", "../x", `a\b`, "/etc/passwd", "nul\x00"} {
		if err := s.Upload(ctx, local, name); err == nil {
			t.Errorf("Upload to %q succeeded", name)
		}
	}
	if err := s.Upload(ctx, filepath.Join(t.TempDir(), "missing"), "x.bin"); err == nil {
		t.Error("Upload of a missing file succeeded")
	}
}

func base64Decode(s string) ([]byte, error) {
	return decodeStd(s)
}

// image returns an output's PNG or JPEG, decoded.
func image(o jupyter.Output) (mime string, data []byte, ok bool) {
	for _, m := range []string{"image/png", "image/jpeg"} {
		if s, isString := o.Data[m].(string); isString {
			b, err := base64.StdEncoding.DecodeString(s)
			return m, b, err == nil
		}
	}
	return "", nil, false
}
