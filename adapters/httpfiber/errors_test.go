package httpfiber

import (
	"os"
	"strings"
	"testing"
)

// Every core sentinel has its better-auth answer here; one missing would be
// a 500.
func TestAnswers_CoverEveryCoreError(t *testing.T) {
	src, err := os.ReadFile("../../core/errors.go")
	if err != nil {
		t.Fatal(err)
	}
	// Social sign-in declares its errors in core/social.
	socialSrc, err := os.ReadFile("../../core/social/errors.go")
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, socialSrc...)
	// newErr's own declaration is not a sentinel.
	if n := strings.Count(string(src), "= newErr("); n != len(answers) {
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
