package jupyter_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

func TestRESTAgainstRealServer(t *testing.T) {
	srv, c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	v, err := c.Version(ctx)
	if err != nil || v == "" {
		t.Fatalf("Version = %q, %v", v, err)
	}
	specs, err := c.KernelSpecs(ctx)
	if err != nil || specs.Default != "python3" || len(specs.Names) == 0 {
		t.Fatalf("KernelSpecs = %+v, %v", specs, err)
	}
	before := srv.KernelCount(t)
	k, err := c.StartKernel(ctx, jupyter.StartOptions{Env: map[string]string{"KERNEL_USERNAME": "tester", "HOME": "/nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if k.ID == "" || k.Name != "python3" {
		t.Errorf("kernel = %+v", k)
	}
	ks, err := c.ListKernels(ctx)
	if err != nil || !containsKernel(ks, k.ID) {
		t.Errorf("ListKernels = %+v, %v", ks, err)
	}
	got, err := c.GetKernel(ctx, k.ID)
	if err != nil || got.ID != k.ID || got.LastActivity.IsZero() {
		t.Errorf("GetKernel = %+v, %v", got, err)
	}
	if err := c.InterruptKernel(ctx, k.ID); err != nil {
		t.Errorf("InterruptKernel: %v", err)
	}
	if err := c.RestartKernel(ctx, k.ID); err != nil {
		t.Errorf("RestartKernel: %v", err)
	}
	if err := c.DeleteKernel(ctx, k.ID); err != nil {
		t.Fatalf("DeleteKernel: %v", err)
	}
	if n := srv.KernelCount(t); n != before {
		t.Errorf("%d kernels after delete, want %d", n, before)
	}
	_, err = c.GetKernel(ctx, k.ID)
	var he *jupyter.HTTPError
	if !errors.Is(err, jupyter.ErrKernelNotFound) || !errors.As(err, &he) || he.Status != 404 {
		t.Errorf("GetKernel after delete: %v", err)
	}
	if _, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{}); !errors.Is(err, jupyter.ErrKernelNotFound) {
		t.Errorf("Connect to a deleted kernel: %v", err)
	}
}

func containsKernel(ks []jupyter.Kernel, id string) bool {
	for _, k := range ks {
		if k.ID == id {
			return true
		}
	}
	return false
}

func TestWrongToken(t *testing.T) {
	srv, good := newClient(t)
	const secret = "wrong-secret-token-1234"
	bad, err := jupyter.NewClient(jupyter.Config{URL: srv.URL + "/?token=" + secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	k, err := good.StartKernel(ctx, jupyter.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer good.DeleteKernel(context.Background(), k.ID)

	calls := map[string]func() error{
		"StartKernel": func() error { _, err := bad.StartKernel(ctx, jupyter.StartOptions{}); return err },
		"ListKernels": func() error { _, err := bad.ListKernels(ctx); return err },
		"KernelSpecs": func() error { _, err := bad.KernelSpecs(ctx); return err },
		"Connect":     func() error { _, err := bad.Connect(ctx, k.ID, jupyter.SessionOptions{}); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, jupyter.ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || strings.Contains(msg, "\n") || !strings.Contains(msg, "not authorized") {
				t.Errorf("message = %q", msg)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // a closed port: connection refused
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/base"
	c, err := jupyter.NewClient(jupyter.Config{URL: url + "?token=hidden-token"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	checks := map[string]error{}
	_, checks["Version"] = c.Version(ctx)
	_, checks["StartKernel"] = c.StartKernel(ctx, jupyter.StartOptions{})
	_, checks["Connect"] = c.Connect(ctx, "7b4a5d43-8d4a-4a8c-9a8e-6c4a2b1f1e11", jupyter.SessionOptions{})
	for name, err := range checks {
		var ue *jupyter.UnreachableError
		if !errors.As(err, &ue) || ue.URL != url {
			t.Errorf("%s: err = %v, want *UnreachableError for %s", name, err, url)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, url) || strings.Contains(msg, "hidden-token") || !strings.Contains(msg, "refused") {
			t.Errorf("%s: message = %q", name, msg)
		}
	}
}
