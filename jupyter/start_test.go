package jupyter_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/analyst-dev/analyst/jupyter"
)

// lossyGateway fakes Kernel Gateway 2 dropping start and delete requests
// (it never answers them), which a real one does only now and then.
type lossyGateway struct {
	t *testing.T

	mu          sync.Mutex
	posts       []string // the KERNEL_START_ID of each start request
	deletes     int
	dropPosts   int  // how many start requests to leave unanswered
	failPosts   int  // how many (after those) to answer with a 500
	launchFirst bool // a dropped start still launches fakeKernel
	launched    bool
	dropDeletes int
	dropKeeps   bool          // a dropped delete leaves the kernel running
	gone        bool          // fakeKernel was deleted
	hold        chan struct{} // dropped requests wait here until the test ends
	posted      chan struct{} // when not nil, told of each start request
	listed      chan struct{} // when not nil, told of each listing
}

func (g *lossyGateway) client(t *testing.T) *jupyter.Client {
	g.t = t
	g.hold = make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"version": "6.4.12"}`) // notebook's, as under Kernel Gateway 2
	})
	mux.HandleFunc("POST /api/kernels", g.start)
	mux.HandleFunc("GET /api/kernels", func(w http.ResponseWriter, r *http.Request) {
		if g.listed != nil {
			defer func() { g.listed <- struct{}{} }()
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.launched && !g.gone {
			io.WriteString(w, `[{"id": "`+fakeKernel+`", "name": "python3", "execution_state": "idle", "connections": 0}]`)
			return
		}
		io.WriteString(w, `[]`)
	})
	mux.HandleFunc("/api/kernels/"+fakeKernel, g.kernel)
	mux.HandleFunc("/api/kernels/"+fakeKernel+"/channels", g.channels)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(g.hold) })
	c, err := jupyter.NewClient(jupyter.Config{URL: srv.URL, Token: "T"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (g *lossyGateway) start(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Env map[string]string `json:"env"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	g.mu.Lock()
	g.posts = append(g.posts, body.Env["KERNEL_START_ID"])
	drop := len(g.posts) <= g.dropPosts
	fail := !drop && len(g.posts) <= g.dropPosts+g.failPosts
	if drop && g.launchFirst {
		g.launched = true
	}
	g.mu.Unlock()
	if g.posted != nil {
		g.posted <- struct{}{}
	}
	switch {
	case drop:
		<-g.hold
		return
	case fail:
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"reason": "Internal Server Error", "message": "Unknown server error"}`)
		return
	}
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"id": "`+fakeKernel+`", "name": "python3"}`)
}

func (g *lossyGateway) kernel(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	gone := g.gone
	drop := false
	if r.Method == http.MethodDelete {
		g.deletes++
		drop = g.deletes <= g.dropDeletes
		if !drop || !g.dropKeeps {
			g.gone = true
		}
	}
	g.mu.Unlock()
	switch {
	case drop:
		<-g.hold
	case gone:
		http.NotFound(w, r)
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		io.WriteString(w, `{"id": "`+fakeKernel+`", "name": "python3", "execution_state": "idle"}`)
	}
}

// channels answers a cell with the start id the dropped start carried, as
// the kernel that start launched would print its environment.
func (g *lossyGateway) channels(w http.ResponseWriter, r *http.Request) {
	conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	id, _ := readRequest(g.t, conn)
	g.mu.Lock()
	startID := g.posts[0]
	g.mu.Unlock()
	_ = conn.WriteJSON(reply(id, "a", "iopub", "stream", wire{"name": "stdout", "text": startID}))
	_ = conn.WriteJSON(reply(id, "b", "shell", "execute_reply", wire{"status": "ok", "execution_count": 0}))
	_ = conn.WriteJSON(reply(id, "c", "iopub", "status", wire{"execution_state": "idle"}))
	_, _, _ = conn.ReadMessage()
}

func TestStartGetsNoAnswer(t *testing.T) {
	tests := []struct {
		name        string
		drop, fail  int
		launchFirst bool
		wantPosts   int
	}{
		// The first request launched nothing: it is sent again.
		{"sent again", 1, 0, false, 2},
		// The first request launched the kernel but its answer never came:
		// the kernel carrying the request's start id is taken.
		{"kernel found", 1, 0, true, 1},
		// The same fault, answered with a 500: sent again at once.
		{"500 sent again", 0, 1, false, 2},
		// Lost, then a 500, then answered: three requests in all.
		{"lost then 500", 1, 1, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := &lossyGateway{dropPosts: tt.drop, failPosts: tt.fail, launchFirst: tt.launchFirst}
			c := g.client(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			k, err := c.StartKernel(ctx, jupyter.StartOptions{})
			if err != nil || k.ID != fakeKernel {
				t.Fatalf("StartKernel = %+v, %v", k, err)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if len(g.posts) != tt.wantPosts {
				t.Errorf("%d start requests, want %d", len(g.posts), tt.wantPosts)
			}
			for _, id := range g.posts {
				if id == "" || id != g.posts[0] {
					t.Errorf("start ids %q: want one id, the same in every request", g.posts)
				}
			}
		})
	}
}

func TestDeleteGetsNoAnswer(t *testing.T) {
	tests := []struct {
		name        string
		dropKeeps   bool
		wantDeletes int
	}{
		// The dropped delete went through: the check finds the kernel gone.
		{"deleted after all", false, 1},
		// It did not: the delete is sent again.
		{"sent again", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := &lossyGateway{dropDeletes: 1, dropKeeps: tt.dropKeeps}
			c := g.client(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := c.DeleteKernel(ctx, fakeKernel); err != nil {
				t.Fatalf("DeleteKernel: %v", err)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.deletes != tt.wantDeletes || !g.gone {
				t.Errorf("%d delete requests, gone %v; want %d, gone", g.deletes, g.gone, tt.wantDeletes)
			}
		})
	}
}
