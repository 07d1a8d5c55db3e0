package httpfiber

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

func TestOkAndHealth(t *testing.T) {
	h := newHarness(t)
	wantBody(t, h.get("/ok"), 200, `{"ok":true}`)
	wantBody(t, h.do("GET", "/api/health", ""), 200, `{"status":"ok"}`)
	wantBody(t, h.do("GET", "/api/ready", ""), 200, `{"status":"ok"}`)
	wantStatus(t, h.do("HEAD", "/api/health", ""), 200)
	wantStatus(t, h.do("HEAD", "/api/ready", ""), 200)
}

func TestErrorPage(t *testing.T) {
	h := newHarness(t)
	r := h.get("/error?error=" + url.QueryEscape("<script>alert(1)</script>") + "&error_description=" + url.QueryEscape(`<img src=x onerror=alert(1)>"'`))
	wantStatus(t, r, 200)
	if r.header.Get("Content-Type") != "text/html" {
		t.Fatalf("content-type %q", r.header.Get("Content-Type"))
	}
	if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "<img") || !strings.Contains(r.body, "UNKNOWN") ||
		!strings.Contains(r.body, "&lt;img src=x onerror=alert(1)&gt;&#34;&#39;") {
		t.Fatalf("page not escaped:\n%s", r.body)
	}
	r = h.get("/error?error=state_mismatch")
	if !strings.Contains(r.body, "<code>state_mismatch</code>") {
		t.Fatalf("code missing:\n%s", r.body)
	}
}

func TestReadiness(t *testing.T) {
	var down bool
	h := newHarness(t, harnessConfig{ready: func(ctx context.Context) error {
		if down {
			return errStoreDown
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("readiness check without a deadline")
		}
		return nil
	}})
	wantBody(t, h.do("GET", "/api/ready", ""), 200, `{"status":"ok"}`)
	down = true
	r := h.do("GET", "/api/ready", "")
	wantBody(t, r, 503, `{"status":"unavailable"}`)
	wantBody(t, h.do("GET", "/api/health", ""), 200, `{"status":"ok"}`)
}
