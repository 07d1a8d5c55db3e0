package otlphttp

import (
	"compress/gzip"
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func noFiles(name string) ([]byte, error) { return nil, os.ErrNotExist }

// The variables mean what they mean to otlptracehttp: the general endpoint
// is a base that /v1/traces is appended to, the traces endpoint is used as
// it is, the _TRACES_ forms override the general ones, and INSECURE picks
// the scheme.
func TestFromEnv(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want Config
	}{
		{nil, Config{URL: "https://localhost:4318/v1/traces", Timeout: 10 * time.Second}},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
			Config{URL: "http://collector:4318/v1/traces", Timeout: 10 * time.Second}},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector/otlp/"},
			Config{URL: "https://collector/otlp/v1/traces", Timeout: 10 * time.Second}},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/custom/path"},
			Config{URL: "https://b/custom/path", Timeout: 10 * time.Second}},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318"},
			Config{URL: "http://b:4318/", Timeout: 10 * time.Second}},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://a", "OTEL_EXPORTER_OTLP_INSECURE": "TRUE"},
			Config{URL: "http://a/v1/traces", Timeout: 10 * time.Second}},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a", "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "false"},
			Config{URL: "https://a/v1/traces", Timeout: 10 * time.Second}},
		{map[string]string{
			"OTEL_EXPORTER_OTLP_HEADERS":        "api-key=general",
			"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "api-key = a%20b%2Cc , x-tenant=7",
			"OTEL_EXPORTER_OTLP_COMPRESSION":    "gzip",
			"OTEL_EXPORTER_OTLP_TIMEOUT":        "2500",
		}, Config{URL: "https://localhost:4318/v1/traces", Headers: map[string]string{"api-key": "a b,c", "x-tenant": "7"},
			Gzip: true, Timeout: 2500 * time.Millisecond}},
		{map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "none",
			"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "0"},
			Config{URL: "https://localhost:4318/v1/traces"}},
	} {
		got, err := FromEnv(envOf(c.env), noFiles)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("FromEnv(%v) = %+v, %v; want %+v", c.env, got, err, c.want)
		}
	}
}

func TestFromEnvRefusesWhatItCannotUse(t *testing.T) {
	for _, env := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a b:4318\x7f"},
		{"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"},
		{"OTEL_EXPORTER_OTLP_HEADERS": "no-equals-sign"},
		{"OTEL_EXPORTER_OTLP_CERTIFICATE": "/missing.pem"},
		{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": "/missing.pem", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": "/missing.key"},
	} {
		if got, err := FromEnv(envOf(env), noFiles); err == nil {
			t.Errorf("FromEnv(%v) = %+v, want an error", env, got)
		}
	}
}

// A CA certificate makes a TLS configuration, which an http:// endpoint
// cannot use.
func TestFromEnvCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	pem := pemOf(t, srv)
	files := func(name string) ([]byte, error) {
		if name == "/ca.pem" {
			return pem, nil
		}
		return nil, os.ErrNotExist
	}
	cfg, err := FromEnv(envOf(map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": "/ca.pem"}), files)
	if err != nil || cfg.TLS == nil || cfg.TLS.RootCAs == nil {
		t.Fatalf("FromEnv with a CA = %+v, %v", cfg, err)
	}
	_, err = FromEnv(envOf(map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": "/ca.pem",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}), files)
	if err == nil {
		t.Error("an http:// endpoint with a CA certificate was accepted")
	}
	// The configuration trusts the server: an export reaches it.
	cfg.URL = srv.URL + "/v1/traces"
	err = New(cfg).UploadTraces(context.Background(), spans("over TLS"))
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("export over TLS with the configured CA: %v, want the server's 404", err)
	}
}

func pemOf(t *testing.T, srv *httptest.Server) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func spans(name string) []*tracepb.ResourceSpans {
	return []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{
		Scope: &commonpb.InstrumentationScope{Name: "test"},
		Spans: []*tracepb.Span{{Name: name, TraceId: make([]byte, 16), SpanId: make([]byte, 8)}},
	}}}}
}

// decode reads an ExportTraceServiceRequest back.
func decode(t *testing.T, body []byte) []*tracepb.ResourceSpans {
	t.Helper()
	var out []*tracepb.ResourceSpans
	var err error
	for num, v := range fields(body, &err) {
		if num != 1 {
			t.Fatalf("unexpected field %d", num)
		}
		rs := &tracepb.ResourceSpans{}
		if err := proto.Unmarshal(v, rs); err != nil {
			t.Fatal(err)
		}
		out = append(out, rs)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type collector struct {
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	answer  func(n int, w http.ResponseWriter)
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	b, _ := io.ReadAll(body)
	c.mu.Lock()
	c.bodies = append(c.bodies, b)
	c.headers = append(c.headers, r.Header.Clone())
	n := len(c.bodies)
	c.mu.Unlock()
	if c.answer != nil {
		c.answer(n, w)
	}
}

func TestUploadTraces(t *testing.T) {
	for _, gz := range []bool{false, true} {
		c := &collector{}
		srv := httptest.NewServer(c)
		cl := New(Config{URL: srv.URL + "/v1/traces", Headers: map[string]string{"Api-Key": "k"}, Gzip: gz})
		if err := cl.UploadTraces(context.Background(), append(spans("one"), spans("two")...)); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if len(c.bodies) != 1 {
			t.Fatalf("gzip %v: %d requests", gz, len(c.bodies))
		}
		h := c.headers[0]
		if h.Get("Content-Type") != "application/x-protobuf" || h.Get("Api-Key") != "k" || (h.Get("Content-Encoding") == "gzip") != gz {
			t.Errorf("gzip %v: headers %v", gz, h)
		}
		got := decode(t, c.bodies[0])
		if len(got) != 2 || got[0].ScopeSpans[0].Spans[0].Name != "one" || got[1].ScopeSpans[0].Spans[0].Name != "two" {
			t.Errorf("gzip %v: decoded %v", gz, got)
		}
	}
}

// 503 (and 429, 502, 504) are retried, honouring Retry-After's floor;
// other failures are not.
func TestUploadTracesRetries(t *testing.T) {
	first := retryFirst
	retryFirst = time.Millisecond
	defer func() { retryFirst = first }()

	c := &collector{answer: func(n int, w http.ResponseWriter) {
		if n < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}}
	srv := httptest.NewServer(c)
	defer srv.Close()
	if err := New(Config{URL: srv.URL}).UploadTraces(context.Background(), spans("retried")); err != nil {
		t.Fatal(err)
	}
	if len(c.bodies) != 3 {
		t.Errorf("%d attempts, want 3", len(c.bodies))
	}

	bad := &collector{answer: func(_ int, w http.ResponseWriter) { http.Error(w, "malformed", http.StatusBadRequest) }}
	srv2 := httptest.NewServer(bad)
	defer srv2.Close()
	err := New(Config{URL: srv2.URL}).UploadTraces(context.Background(), spans("refused"))
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "malformed") || len(bad.bodies) != 1 {
		t.Errorf("a 400: %v after %d attempts; want its error after 1", err, len(bad.bodies))
	}

	// A Retry-After beyond the minute of retries gives up at once.
	busy := &collector{answer: func(_ int, w http.ResponseWriter) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "later", http.StatusTooManyRequests)
	}}
	srv3 := httptest.NewServer(busy)
	defer srv3.Close()
	err = New(Config{URL: srv3.URL}).UploadTraces(context.Background(), spans("throttled"))
	if err == nil || !strings.Contains(err.Error(), "429") || len(busy.bodies) != 1 {
		t.Errorf("a 429 asking for an hour: %v after %d attempts; want its error after 1", err, len(busy.bodies))
	}
}

// An attempt that outlasts the timeout is retried.
func TestUploadTracesRetriesATimeout(t *testing.T) {
	first := retryFirst
	retryFirst = time.Millisecond
	defer func() { retryFirst = first }()
	var mu sync.Mutex
	attempts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		attempts++
		n := attempts
		mu.Unlock()
		if n == 1 {
			<-r.Context().Done() // the client gives up first
		}
	}))
	defer srv.Close()
	if err := New(Config{URL: srv.URL, Timeout: 50 * time.Millisecond}).UploadTraces(context.Background(), spans("slow")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 2 {
		t.Errorf("%d attempts, want 2", attempts)
	}
}

func TestPartialSuccess(t *testing.T) {
	var ps []byte
	ps = protowire.AppendTag(ps, 1, protowire.VarintType)
	ps = protowire.AppendVarint(ps, 2)
	ps = protowire.AppendTag(ps, 2, protowire.BytesType)
	ps = protowire.AppendString(ps, "too old")
	var resp []byte
	resp = protowire.AppendTag(resp, 1, protowire.BytesType)
	resp = protowire.AppendBytes(resp, ps)
	c := &collector{answer: func(_ int, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(resp)
	}}
	srv := httptest.NewServer(c)
	defer srv.Close()
	err := New(Config{URL: srv.URL}).UploadTraces(context.Background(), spans("partial"))
	if err == nil || !strings.Contains(err.Error(), "2 spans rejected: too old") {
		t.Errorf("partial success: %v", err)
	}
	if err := partialSuccess(nil); err != nil {
		t.Errorf("an empty answer: %v", err)
	}
	if err := partialSuccess([]byte{0x0a, 0x05}); err == nil {
		t.Errorf("a truncated answer: %v, want an error", err)
	}
}
