// Package otlphttp sends OpenTelemetry traces over OTLP/HTTP (binary
// protobuf), configured by the standard OTEL_EXPORTER_OTLP_* variables as
// go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp reads
// them. That exporter links gRPC, grpc-gateway and the collector's service
// definitions even for HTTP, and their package initialisation alone costs
// every authd process about 2 MiB of resident memory, tracing on or off;
// this client needs only the span messages that otlptrace already uses.
package otlphttp

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Config is where and how spans go.
type Config struct {
	// URL is the traces endpoint, path included.
	URL     string
	Headers map[string]string
	Gzip    bool
	// Timeout bounds each attempt.
	Timeout time.Duration
	// TLS is nil unless a CA or client certificate was given.
	TLS *tls.Config
}

// FromEnv reads the OTEL_EXPORTER_OTLP_* variables, each _TRACES_ one
// overriding its general form, with otlptracehttp's defaults
// (https://localhost:4318/v1/traces, no compression, 10 s). Unlike
// otlptracehttp, which skips a value it cannot use, it refuses it.
func FromEnv(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	env := func(name string) string { return strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_" + name)) }
	cfg := Config{Timeout: 10 * time.Second}
	scheme, host, urlPath := "https", "localhost:4318", "/v1/traces"
	for _, e := range []struct {
		name   string
		traces bool // the URL is the traces endpoint itself, not its base
	}{{"ENDPOINT", false}, {"TRACES_ENDPOINT", true}} {
		v := env(e.name)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil {
			return cfg, fmt.Errorf("OTEL_EXPORTER_OTLP_%s: %w", e.name, err)
		}
		scheme, host = "https", u.Host
		if strings.EqualFold(u.Scheme, "http") {
			scheme = "http"
		}
		switch {
		case !e.traces:
			urlPath = path.Join(u.Path, "/v1/traces")
		case u.Path == "":
			urlPath = "/"
		default:
			urlPath = u.Path
		}
	}
	for _, name := range []string{"INSECURE", "TRACES_INSECURE"} {
		if v := env(name); v != "" {
			scheme = "https"
			if strings.EqualFold(v, "true") {
				scheme = "http"
			}
		}
	}
	cfg.URL = (&url.URL{Scheme: scheme, Host: host, Path: urlPath}).String()

	var tlsCfg tls.Config
	for _, name := range []string{"CERTIFICATE", "TRACES_CERTIFICATE"} {
		if file := env(name); file != "" {
			pem, err := readFile(file)
			if err != nil {
				return cfg, fmt.Errorf("OTEL_EXPORTER_OTLP_%s: %w", name, err)
			}
			tlsCfg.RootCAs = x509.NewCertPool()
			if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
				return cfg, fmt.Errorf("OTEL_EXPORTER_OTLP_%s: no PEM certificate in %s", name, file)
			}
		}
	}
	for _, prefix := range []string{"", "TRACES_"} {
		certFile, keyFile := env(prefix+"CLIENT_CERTIFICATE"), env(prefix+"CLIENT_KEY")
		if certFile == "" || keyFile == "" {
			continue
		}
		certPEM, err := readFile(certFile)
		if err != nil {
			return cfg, fmt.Errorf("OTEL_EXPORTER_OTLP_%sCLIENT_CERTIFICATE: %w", prefix, err)
		}
		keyPEM, err := readFile(keyFile)
		if err != nil {
			return cfg, fmt.Errorf("OTEL_EXPORTER_OTLP_%sCLIENT_KEY: %w", prefix, err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return cfg, fmt.Errorf("OTEL_EXPORTER_OTLP_%sCLIENT_CERTIFICATE/_KEY: %w", prefix, err)
		}
		tlsCfg.Certificates = []tls.Certificate{cert}
	}
	if tlsCfg.RootCAs != nil || tlsCfg.Certificates != nil {
		if scheme == "http" {
			return cfg, errors.New("OTEL_EXPORTER_OTLP_*: an insecure (http) endpoint cannot use TLS certificates")
		}
		cfg.TLS = &tlsCfg
	}

	for _, name := range []string{"HEADERS", "TRACES_HEADERS"} {
		if v := env(name); v != "" {
			h, err := parseHeaders(v)
			if err != nil {
				return cfg, fmt.Errorf("OTEL_EXPORTER_OTLP_%s: %w", name, err)
			}
			cfg.Headers = h
		}
	}
	for _, name := range []string{"COMPRESSION", "TRACES_COMPRESSION"} {
		if v := env(name); v != "" {
			cfg.Gzip = v == "gzip"
		}
	}
	for _, name := range []string{"TIMEOUT", "TRACES_TIMEOUT"} {
		if v := env(name); v != "" {
			ms, err := strconv.Atoi(v)
			if err != nil || ms < 0 {
				return cfg, fmt.Errorf("OTEL_EXPORTER_OTLP_%s: want milliseconds, got %q", name, v)
			}
			cfg.Timeout = time.Duration(ms) * time.Millisecond
		}
	}
	return cfg, nil
}

// parseHeaders reads "name=value,..." with percent-encoded values.
func parseHeaders(s string) (map[string]string, error) {
	h := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("want name=value, got %q", pair)
		}
		v, err := url.PathUnescape(v)
		if err != nil {
			return nil, err
		}
		h[k] = strings.TrimSpace(v)
	}
	return h, nil
}

// Retries follow otlptracehttp's: on 429, 502, 503, 504 and timeouts, after 5 s,
// growing by half each time up to 30 s (or as long as Retry-After asks),
// for at most a minute.
var (
	retryFirst   = 5 * time.Second
	retryMax     = 30 * time.Second
	retryElapsed = time.Minute
)

// Client is an otlptrace.Client; otlptrace.New(ctx, c) makes it an exporter.
type Client struct {
	cfg  Config
	http *http.Client
}

var _ otlptrace.Client = (*Client)(nil)

func New(cfg Config) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS
	}
	return &Client{cfg: cfg, http: &http.Client{Transport: tr, Timeout: cfg.Timeout}}
}

func (c *Client) Start(context.Context) error { return nil }

func (c *Client) Stop(context.Context) error {
	c.http.CloseIdleConnections()
	return nil
}

// UploadTraces posts one ExportTraceServiceRequest, retrying while the
// collector answers that it is overloaded or unavailable.
func (c *Client) UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error {
	body, err := exportRequest(spans)
	if err != nil {
		return err
	}
	if c.cfg.Gzip {
		var b bytes.Buffer
		gz := gzip.NewWriter(&b)
		gz.Write(body) // a bytes.Buffer does not fail
		gz.Close()
		body = b.Bytes()
	}
	start, wait := time.Now(), retryFirst
	for {
		retryAfter, err := c.post(ctx, body)
		if err == nil || retryAfter < 0 {
			return err
		}
		// Jitter of ±50 % keeps instances from retrying in step.
		delay := wait/2 + rand.N(wait)
		delay = max(delay, retryAfter)
		if time.Since(start)+delay > retryElapsed {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (then %w)", err, ctx.Err())
		case <-time.After(delay):
		}
		wait = min(wait*3/2, retryMax)
	}
}

// post sends body once. retryAfter is negative unless the failure may be
// retried, then what the collector's Retry-After asked for (or 0).
func (c *Client) post(ctx context.Context, body []byte) (retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return -1, err
	}
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", "authd OTLP exporter (otlptrace "+otlptrace.Version()+")")
	if c.cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// An attempt that timed out is retried (the collector may be
		// busy); a refused connection is not, as in otlptracehttp.
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() && ctx.Err() == nil {
			return 0, err
		}
		return -1, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return -1, err
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		if resp.Header.Get("Content-Type") == "application/x-protobuf" {
			return -1, partialSuccess(answer)
		}
		return -1, nil
	case code == http.StatusTooManyRequests || code == http.StatusBadGateway ||
		code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		retryAfter = 0
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			retryAfter = time.Duration(s) * time.Second
		}
		return retryAfter, fmt.Errorf("OTLP export to %s: %s: %.200s", c.cfg.URL, resp.Status, bytes.TrimSpace(answer))
	default:
		return -1, fmt.Errorf("OTLP export to %s: %s: %.200s", c.cfg.URL, resp.Status, bytes.TrimSpace(answer))
	}
}

// exportRequest encodes ExportTraceServiceRequest, whose only field (1) is
// the repeated ResourceSpans: its Go type lives in the collector package
// that brings gRPC along.
func exportRequest(spans []*tracepb.ResourceSpans) ([]byte, error) {
	var b []byte
	for _, rs := range spans {
		m, err := proto.Marshal(rs)
		if err != nil {
			return nil, err
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b, nil
}

// partialSuccess reads ExportTraceServiceResponse's partial_success (1):
// rejected_spans (1) and error_message (2). A collector that accepted
// everything leaves it out.
func partialSuccess(resp []byte) (err error) {
	var rejected uint64
	var msg string
	for num, v := range fields(resp, &err) {
		if num != 1 {
			continue
		}
		for num, v := range fields(v, &err) {
			switch num {
			case 1:
				rejected, _ = protowire.ConsumeVarint(v)
			case 2:
				msg = string(v)
			}
		}
	}
	if err != nil {
		return err
	}
	if rejected == 0 && msg == "" {
		return nil
	}
	return fmt.Errorf("OTLP partial success: %d spans rejected: %s", rejected, msg)
}

// fields yields each field's number and encoded value (a varint's bytes, a
// length-delimited field's content); a malformed message ends the sequence
// with *err set.
func fields(b []byte, err *error) iter.Seq2[protowire.Number, []byte] {
	return func(yield func(protowire.Number, []byte) bool) {
		for len(b) > 0 {
			num, typ, n := protowire.ConsumeTag(b)
			if n < 0 {
				*err = protowire.ParseError(n)
				return
			}
			b = b[n:]
			var v []byte
			if typ == protowire.BytesType {
				v, n = protowire.ConsumeBytes(b)
			} else {
				n = protowire.ConsumeFieldValue(num, typ, b)
				v = b[:max(n, 0)]
			}
			if n < 0 {
				*err = protowire.ParseError(n)
				return
			}
			b = b[n:]
			if !yield(num, v) {
				return
			}
		}
	}
}
