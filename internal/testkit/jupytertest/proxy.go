package jupytertest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// Proxy starts a reverse proxy in front of the server, closed when the test
// ends, and returns its URL. Every request goes to the server unless route
// gives its pattern a handler of its own on mux; next passes a request on
// to the server.
func (s *Server) Proxy(tb testing.TB, route func(mux *http.ServeMux, next http.Handler)) string {
	tb.Helper()
	backend, err := url.Parse(s.URL)
	if err != nil {
		tb.Fatal(err)
	}
	next := httputil.NewSingleHostReverseProxy(backend)
	mux := http.NewServeMux()
	mux.Handle("/", next)
	route(mux, next)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv.URL
}
