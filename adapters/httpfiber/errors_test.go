package httpfiber

import (
	"os"
	"strings"
	"testing"
)

// Every core sentinel, and every error of core/twofactor's and core/social's
// errors.go, has
// its better-auth answer here; one missing would be a 500.
func TestAnswers_CoverEveryCoreError(t *testing.T) {
	src, err := os.ReadFile("../../core/errors.go")
	if err != nil {
		t.Fatal(err)
	}
	twoFactor, err := os.ReadFile("../../core/twofactor/errors.go")
	if err != nil {
		t.Fatal(err)
	}
	social, err := os.ReadFile("../../core/social/errors.go")
	if err != nil {
		t.Fatal(err)
	}
	// newErr's own declaration is not a sentinel.
	n := strings.Count(string(src), "= newErr(") + strings.Count(string(twoFactor), "= core.NewError(") +
		strings.Count(string(social), "= core.NewError(")
	if n != len(answers) {
		t.Fatalf("core declares %d errors, answers maps %d", n, len(answers))
	}
}

// Routes where better-auth answers a core error with another status declare
// it in their route table.
func TestRouteAnswers(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/delete-user", `{"token":"nope"}`, "Cookie", jar), 404, "INVALID_TOKEN", "Invalid token")
	wantError(t, h.get("/delete-user/callback?token=nope", "Cookie", jar), 404, "INVALID_TOKEN", "Invalid token")
	wantError(t, h.post("/reset-password", `{"newPassword":"new-password-1","token":"nope"}`), 400, "INVALID_TOKEN", "Invalid token")
	wantError(t, h.get("/verify-email?token=abc"), 401, "INVALID_TOKEN", "Invalid token")

	// The reset token of a user deleted since: 400 where the general
	// mapping says 404.
	wantStatus(t, h.post("/request-password-reset", `{"email":"alice@example.com"}`), 200)
	token := strings.TrimPrefix(h.mailLink("alice@example.com").Path, "/api/auth/reset-password/")
	if err := h.store.Users().Delete(t.Context(), h.storedUser(t, "alice@example.com").ID()); err != nil {
		t.Fatal(err)
	}
	wantError(t, h.post("/reset-password", `{"newPassword":"new-password-1","token":"`+token+`"}`), 400, "USER_NOT_FOUND", "User not found")
}
