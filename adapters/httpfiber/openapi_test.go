package httpfiber

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The document is valid OpenAPI and lists every route the app serves, with
// the input structs' schemas.
func TestOpenAPI_EveryRouteValid(t *testing.T) {
	h := newHarness(t)
	r := h.get("/open-api/generate-schema")
	wantStatus(t, r, 200)
	doc, err := openapi3.NewLoader().LoadFromData([]byte(r.body))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	n := 0
	for _, rt := range h.app.GetRoutes(true) {
		if rt.Method == "USE" || rt.Path == "/" {
			continue
		}
		n++
		path, _ := openAPIPathOf(rt.Path)
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("%s %s is served but not in the document", rt.Method, rt.Path)
		}
	}
	if n < 20 {
		t.Fatalf("only %d routes checked: the route list is not what the test expects", n)
	}

	signIn := doc.Paths.Find("/api/auth/sign-in/email").Post
	schema := signIn.RequestBody.Value.Content.Get("application/json").Schema.Value
	if !strings.Contains(strings.Join(schema.Required, ","), "email") || schema.Properties["password"] == nil {
		t.Errorf("sign-in/email body: required %v, properties %v", schema.Required, schema.Properties)
	}
	if signIn.RequestBody.Value.Content.Get("application/x-www-form-urlencoded") == nil {
		t.Error("sign-in/email takes forms too, the document says not")
	}
	if sec := doc.Paths.Find("/api/auth/list-sessions").Get.Security; sec == nil || len(*sec) == 0 {
		t.Error("list-sessions needs a session, the document says not")
	}
	if p := doc.Paths.Find("/api/auth/reset-password/{token}"); p == nil || p.Get.Parameters.GetByInAndName("path", "token") == nil {
		t.Error("reset-password/{token} lacks its path parameter")
	}
}
