package jupyter

import (
	"strings"
	"testing"
)

func TestNewClientURL(t *testing.T) {
	tests := []struct {
		url, token   string
		wantURL      string
		wantToken    string
		wantChannels string
		wantErr      string
	}{
		{url: "http://localhost:8888", wantURL: "http://localhost:8888",
			wantChannels: "ws://localhost:8888/api/kernels/K/channels?session_id=S"},
		{url: "https://gw.example.com/base/path/", wantURL: "https://gw.example.com/base/path",
			wantChannels: "wss://gw.example.com/base/path/api/kernels/K/channels?session_id=S"},
		{url: "HTTPS://gw.example.com:8443/jupyter", wantURL: "https://gw.example.com:8443/jupyter",
			wantChannels: "wss://gw.example.com:8443/jupyter/api/kernels/K/channels?session_id=S"},
		{url: "http://127.0.0.1:8888/?token=abc", wantURL: "http://127.0.0.1:8888", wantToken: "abc",
			wantChannels: "ws://127.0.0.1:8888/api/kernels/K/channels?session_id=S"},
		{url: "http://127.0.0.1:8888/lab?token=abc", token: "override", wantURL: "http://127.0.0.1:8888/lab", wantToken: "override",
			wantChannels: "ws://127.0.0.1:8888/lab/api/kernels/K/channels?session_id=S"},
		{url: "http://user:pw@[::1]:8888", wantURL: "http://[::1]:8888",
			wantChannels: "ws://[::1]:8888/api/kernels/K/channels?session_id=S"},
		{url: "", wantErr: "empty"},
		{url: "ftp://host/x", wantErr: `"ftp://host/x": scheme must be http or https`},
		{url: "localhost:8888", wantErr: `"localhost:8888": scheme must be http or https`},
		{url: "http://", wantErr: `"http://": no host`},
		{url: "http://bad host/?token=s3cret", wantErr: `invalid gateway URL "http://bad host/?..."`},
		{url: "ws://host", wantErr: "scheme must be http or https"},
		{url: "http://user:s3cret@[bad", wantErr: `invalid gateway URL "http://***@[bad"`},
		{url: "http://user:s3cret@[bad?token=x", wantErr: `invalid gateway URL "http://***@[bad?..."`},
		{url: "http://user:s3cret@[bad#x", wantErr: `invalid gateway URL "http://***@[bad?..."`},
		{url: "http://us@er:s3cret@[bad", wantErr: `invalid gateway URL "http://***@[bad"`},
		{url: "http://user:s3cret@host:99999", wantErr: `invalid gateway URL "http://***@host:99999": port 99999 is not 1-65535`},
		{url: "http://host:0/", wantErr: `invalid gateway URL "http://host:0/": port 0 is not 1-65535`},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := NewClient(Config{URL: tt.url, Token: tt.token})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.URL(); got != tt.wantURL {
				t.Errorf("URL() = %q, want %q", got, tt.wantURL)
			}
			if c.token != tt.wantToken {
				t.Errorf("token = %q, want %q", c.token, tt.wantToken)
			}
			s := &Session{c: c, kernelID: "K", sessionID: "S"}
			if got := s.channelsURL(); got != tt.wantChannels {
				t.Errorf("channels URL = %q, want %q", got, tt.wantChannels)
			}
		})
	}
}

func TestStripANSI(t *testing.T) {
	in := "\x1b[0;31mZeroDivisionError\x1b[0m: x \x1b]8;;http://e\x07link\x1b]8;;\x07"
	if got, want := StripANSI(in), "ZeroDivisionError: x link"; got != want {
		t.Errorf("StripANSI = %q, want %q", got, want)
	}
}

func TestDisplayURL(t *testing.T) {
	got := DisplayURL("https://user:pw@gw.example.com/k?token=abc&x=1")
	if got != "https://gw.example.com/k?x=1" {
		t.Errorf("DisplayURL = %q", got)
	}
}
