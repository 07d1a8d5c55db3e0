// End-to-end flows through the real better-auth JS client. The suite must pass
// against both the reference better-auth server and authd.
// Env: AUTHD_URL (server origin, e.g. http://127.0.0.1:8100), MAIL_DIR.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Browser } from "./browser.mjs";
import pg from "pg";
import { Mailbox } from "./mail.mjs";

const ORIGIN = new URL(process.env.AUTHD_URL ?? assert.fail("AUTHD_URL is not set")).origin;
const BASE = `${ORIGIN}/api/auth`;
const mailbox = new Mailbox(process.env.MAIL_DIR);
const PASSWORD = "correct horse battery";
const WEEK_MS = 7 * 24 * 3600 * 1000;
// The /delete-user mode both servers run in (see the "delete-user" group).
const CONFIRM_BY_EMAIL = process.env.AUTH_DELETE_USER_CONFIRM_BY_EMAIL !== "false";

const newEmail = (tag) => `${tag}-${randomBytes(6).toString("hex")}@example.com`;

function ok(res, what) {
	assert.equal(res.error, null, `${what}: ${JSON.stringify(res.error)}`);
	return res.data;
}

function failed(res, status, code) {
	assert.equal(res.data, null, `expected an error, got ${JSON.stringify(res.data)}`);
	assert.equal(res.error?.status, status, JSON.stringify(res.error));
	assert.equal(res.error?.code, code, JSON.stringify(res.error));
	return res.error;
}

async function signUp(tag, { name = "Test User", password = PASSWORD } = {}) {
	const browser = new Browser(ORIGIN);
	const email = newEmail(tag);
	const data = ok(await browser.client.signUp.email({ name, email, password }), "sign-up");
	return { browser, email, password, user: data.user, token: data.token };
}

async function signIn(email, password = PASSWORD, opts = {}) {
	const browser = new Browser(ORIGIN);
	const res = await browser.client.signIn.email({ email, password, ...opts });
	return { browser, res };
}

async function session(browser) {
	return ok(await browser.client.getSession(), "get-session");
}

// The server's database, from the PG* variables the Go harness sets, for the
// few checks a client cannot make; opened on first use.
let pool;
after(() => pool?.end());

/** Runs sql and returns the count of its first row (or of the rows it touched). */
async function pgCount(sql, params) {
	pool ??= new pg.Pool({ max: 2 });
	const res = await pool.query(sql, params);
	return res.rows.length ? Number(Object.values(res.rows[0])[0]) : res.rowCount;
}

function nearly(date, expectedMs, toleranceMs = 60_000) {
	assert.ok(date instanceof Date, `expected a Date, got ${typeof date} ${date}`);
	assert.ok(Math.abs(date.getTime() - expectedMs) < toleranceMs, `${date.toISOString()} is not near ${new Date(expectedMs).toISOString()}`);
}

// Mailed links embed the server's public base URL (origin + /api/auth).
function mailedLink(mail, path) {
	const url = new URL(mail.url);
	assert.ok(`${url.origin}${url.pathname}`.startsWith(`${BASE}${path}`), `${mail.url} is not under ${BASE}${path}`);
	return url;
}

describe("sign-up and sessions", () => {
	test("sign-up returns the user and token and sets a signed session cookie", async () => {
		const browser = new Browser(ORIGIN);
		const email = newEmail("Signup");
		const before = Date.now();
		const data = ok(await browser.client.signUp.email({ name: "Ada Lovelace", email, password: PASSWORD }), "sign-up");

		assert.match(data.token, /^[A-Za-z0-9]{32}$/);
		assert.equal(data.user.email, email.toLowerCase(), "email is stored lower-case");
		assert.equal(data.user.name, "Ada Lovelace");
		assert.equal(data.user.emailVerified, false);
		assert.equal(data.user.image, null);
		assert.match(data.user.id, /^[A-Za-z0-9]{32}$/);
		nearly(data.user.createdAt, before);
		nearly(data.user.updatedAt, before);

		const cookie = browser.jar.get("better-auth.session_token");
		assert.ok(cookie, `no session cookie among ${browser.jar.names()}`);
		assert.equal(decodeURIComponent(cookie.value).split(".")[0], data.token);
		assert.match(decodeURIComponent(cookie.value), /^[A-Za-z0-9]{32}\.[A-Za-z0-9+/]{43}=$/);
		assert.equal(cookie.attributes["max-age"], "604800");
		assert.equal(cookie.attributes.path, "/");
		assert.equal(cookie.attributes.httponly, true);
		assert.equal(cookie.attributes.samesite, "Lax");

		const s = await session(browser);
		assert.equal(s.session.token, data.token);
		assert.equal(s.session.userId, data.user.id);
		assert.equal(s.session.userAgent, browser.userAgent);
		nearly(s.session.expiresAt, before + WEEK_MS);
		nearly(s.session.createdAt, before);
		assert.deepEqual(s.user, data.user);
	});

	test("no cookie means no session", async () => {
		const browser = new Browser(ORIGIN);
		assert.equal(await session(browser), null);
		failed(await browser.client.listSessions(), 401, "UNAUTHORIZED");
	});

	test("sign-in creates a second session; list-sessions and revoke-session", async () => {
		const a = await signUp("twodevices");
		const { browser: b, res } = await signIn(a.email.toUpperCase());
		const signedIn = ok(res, "sign-in");
		assert.equal(signedIn.redirect, false);
		assert.equal(signedIn.user.id, a.user.id);
		assert.notEqual(signedIn.token, a.token);
		assert.equal(b.sessionToken(), signedIn.token);

		const listed = ok(await a.browser.client.listSessions(), "list-sessions");
		assert.deepEqual(listed.map((s) => s.token).sort(), [a.token, signedIn.token].sort());
		for (const s of listed) {
			assert.equal(s.userId, a.user.id);
			assert.ok(s.expiresAt instanceof Date);
		}

		assert.deepEqual(ok(await a.browser.client.revokeSession({ token: signedIn.token }), "revoke-session"), { status: true });
		assert.equal(await session(b), null, "revoked session must be gone");
		assert.equal((await session(a.browser)).session.token, a.token, "the revoking session stays");
	});

	test("revoke-other-sessions keeps only the current session", async () => {
		const a = await signUp("others");
		const b = (await signIn(a.email)).browser;
		const c = (await signIn(a.email)).browser;
		assert.ok(await session(b));
		assert.deepEqual(ok(await a.browser.client.revokeOtherSessions(), "revoke-other-sessions"), { status: true });
		assert.equal(await session(b), null);
		assert.equal(await session(c), null);
		const listed = ok(await a.browser.client.listSessions(), "list-sessions");
		assert.deepEqual(listed.map((s) => s.token), [a.token]);
	});

	test("revoke-sessions ends every session including the current one", async () => {
		const a = await signUp("revokeall");
		const b = (await signIn(a.email)).browser;
		assert.deepEqual(ok(await a.browser.client.revokeSessions(), "revoke-sessions"), { status: true });
		assert.equal(await session(a.browser), null);
		assert.equal(await session(b), null);
	});

	test("sign-in with callbackURL asks the client to redirect", async () => {
		const a = await signUp("callback");
		const data = ok((await signIn(a.email, PASSWORD, { callbackURL: "/dashboard" })).res, "sign-in");
		assert.equal(data.redirect, true);
		assert.equal(data.url, "/dashboard");
		assert.equal(data.user.id, a.user.id);
		const refused = (await signIn(a.email, PASSWORD, { callbackURL: "http://evil.example/steal" })).res;
		failed(refused, 403, "INVALID_CALLBACK_URL");
	});

	test("rememberMe=false sets a browser-session cookie and dont_remember", async () => {
		const a = await signUp("dontremember");
		const { browser, res } = await signIn(a.email, PASSWORD, { rememberMe: false });
		ok(res, "sign-in");
		const cookie = browser.jar.get("better-auth.session_token");
		assert.equal(cookie.attributes["max-age"], undefined, cookie.raw);
		assert.ok(browser.jar.get("better-auth.dont_remember"), `cookies: ${browser.jar.names()}`);
		const s = await session(browser);
		nearly(s.session.expiresAt, Date.now() + 24 * 3600 * 1000);
	});

	test("sign-out without a session still succeeds", async () => {
		assert.deepEqual(ok(await new Browser(ORIGIN).client.signOut(), "sign-out"), { success: true });
	});

	test("sign-out ends the session", async () => {
		const a = await signUp("signout");
		assert.deepEqual(ok(await a.browser.client.signOut(), "sign-out"), { success: true });
		assert.equal(a.browser.jar.get("better-auth.session_token"), undefined, "cookie must be expired");
		assert.equal(await session(a.browser), null);
		const listed = ok(await (await signIn(a.email)).browser.client.listSessions(), "list-sessions");
		assert.ok(!listed.some((s) => s.token === a.token), "signed-out session row must be deleted");
	});
});

describe("profile and password", () => {
	test("update-user changes name and image", async () => {
		const a = await signUp("update", { name: "Old Name" });
		const res = await a.browser.client.updateUser({ name: "New Name", image: "https://example.com/a.png" });
		assert.deepEqual(ok(res, "update-user"), { status: true });
		let s = await session(a.browser);
		assert.equal(s.user.name, "New Name");
		assert.equal(s.user.image, "https://example.com/a.png");
		assert.ok(s.user.updatedAt.getTime() >= a.user.updatedAt.getTime());

		ok(await a.browser.client.updateUser({ image: null }), "update-user image null");
		s = await session(a.browser);
		assert.equal(s.user.image, null);
		assert.equal(s.user.name, "New Name");

		failed(await a.browser.client.updateUser({ email: newEmail("other") }), 400, "EMAIL_CAN_NOT_BE_UPDATED");
	});

	test("change-password with revokeOtherSessions replaces every session", async () => {
		const a = await signUp("chpw");
		const b = (await signIn(a.email)).browser;
		const newPassword = "an even better password";

		failed(await a.browser.client.changePassword({ currentPassword: "wrong password!", newPassword }), 400, "INVALID_PASSWORD");
		failed(await a.browser.client.changePassword({ currentPassword: PASSWORD, newPassword: "short" }), 400, "PASSWORD_TOO_SHORT");

		const data = ok(
			await a.browser.client.changePassword({ currentPassword: PASSWORD, newPassword, revokeOtherSessions: true }),
			"change-password",
		);
		assert.match(data.token, /^[A-Za-z0-9]{32}$/);
		assert.notEqual(data.token, a.token);
		assert.equal(data.user.id, a.user.id);
		assert.equal(a.browser.sessionToken(), data.token, "the response sets the new session cookie");

		assert.equal((await session(a.browser)).session.token, data.token);
		assert.equal(await session(b), null, "other sessions are revoked");
		const listed = ok(await a.browser.client.listSessions(), "list-sessions");
		assert.deepEqual(listed.map((s) => s.token), [data.token], "the old current session is revoked too");

		failed((await signIn(a.email)).res, 401, "INVALID_EMAIL_OR_PASSWORD");
		ok((await signIn(a.email, newPassword)).res, "sign-in with the new password");
	});

	test("change-password without revokeOtherSessions keeps the sessions", async () => {
		const a = await signUp("chpwkeep");
		const b = (await signIn(a.email)).browser;
		const newPassword = "another fine password";
		const data = ok(await a.browser.client.changePassword({ currentPassword: PASSWORD, newPassword }), "change-password");
		assert.equal(data.token, null);
		assert.equal(data.user.id, a.user.id);
		assert.equal((await session(a.browser)).session.token, a.token);
		assert.ok(await session(b));
		ok((await signIn(a.email, newPassword)).res, "sign-in with the new password");
	});
});

describe("mailed links", () => {
	test("send-verification-email then the mailed link verifies the address", async () => {
		const a = await signUp("verify");
		const { result, mail } = await mailbox.expect(a.email, () =>
			a.browser.client.sendVerificationEmail({ email: a.email, callbackURL: "/verified" }),
		);
		assert.deepEqual(ok(result, "send-verification-email"), { status: true });
		const url = mailedLink(mail, "/verify-email");
		assert.match(url.searchParams.get("token"), /^eyJhbGciOiJIUzI1NiJ9\.[\w-]+\.[\w-]+$/);
		assert.equal(url.searchParams.get("callbackURL"), "/verified");
		assert.ok(mail.url.endsWith("&callbackURL=%2Fverified"), mail.url);

		const opened = await a.browser.open(mail.url);
		assert.equal(opened.status, 302, opened.body);
		assert.equal(opened.location, "/verified");
		assert.equal((await session(a.browser)).user.emailVerified, true);

		failed(
			await a.browser.client.sendVerificationEmail({ email: a.email }),
			400,
			"EMAIL_ALREADY_VERIFIED",
		);
		const tampered = new URL(mail.url);
		tampered.searchParams.set("token", `${url.searchParams.get("token")}x`);
		const bad = await a.browser.open(tampered.href);
		assert.equal(bad.status, 302, bad.body);
		assert.equal(bad.location, "/verified?error=INVALID_TOKEN");
	});

	test("verify-email through the client without callbackURL", async () => {
		const a = await signUp("verifyapi");
		const anonymous = new Browser(ORIGIN);
		const { result, mail } = await mailbox.expect(a.email, () =>
			anonymous.client.sendVerificationEmail({ email: a.email }),
		);
		assert.deepEqual(ok(result, "send-verification-email"), { status: true });
		const url = mailedLink(mail, "/verify-email");
		assert.equal(url.searchParams.get("callbackURL"), "/");
		const verified = ok(
			await anonymous.client.verifyEmail({ query: { token: url.searchParams.get("token") } }),
			"verify-email",
		);
		assert.deepEqual(verified, { status: true, user: null });
		assert.equal((await session(a.browser)).user.emailVerified, true);
		failed(await anonymous.client.verifyEmail({ query: { token: "not-a-jwt" } }), 401, "INVALID_TOKEN");
	});

	test("password reset through the mailed link revokes old sessions", async () => {
		const a = await signUp("reset");
		const other = new Browser(ORIGIN);
		const { result, mail } = await mailbox.expect(a.email, () =>
			other.client.requestPasswordReset({ email: a.email, redirectTo: "/reset" }),
		);
		assert.deepEqual(ok(result, "request-password-reset"), {
			status: true,
			message: "If this email exists in our system, check your email for the reset link",
		});
		const url = mailedLink(mail, "/reset-password/");
		const token = url.pathname.split("/").pop();
		assert.match(token, /^[A-Za-z0-9]{24}$/);
		assert.equal(url.search, "?callbackURL=%2Freset");

		const opened = await other.open(mail.url);
		assert.equal(opened.status, 302, opened.body);
		const landing = new URL(opened.location, ORIGIN);
		assert.equal(`${landing.origin}${landing.pathname}`, `${ORIGIN}/reset`);
		assert.equal(landing.searchParams.get("token"), token);

		failed(await other.client.resetPassword({ newPassword: "short", token }), 400, "PASSWORD_TOO_SHORT");
		const newPassword = "a brand new password";
		assert.deepEqual(ok(await other.client.resetPassword({ newPassword, token }), "reset-password"), { status: true });
		failed(await other.client.resetPassword({ newPassword, token }), 400, "INVALID_TOKEN");

		assert.equal(await session(a.browser), null, "sessions are revoked on password reset");
		failed((await signIn(a.email)).res, 401, "INVALID_EMAIL_OR_PASSWORD");
		ok((await signIn(a.email, newPassword)).res, "sign-in with the new password");
	});

	test("password reset for an unknown address answers the same and mails nothing", async () => {
		const nobody = newEmail("nobody");
		const before = await mailbox.snapshot();
		const res = await new Browser(ORIGIN).client.requestPasswordReset({ email: nobody, redirectTo: "/reset" });
		assert.deepEqual(ok(res, "request-password-reset"), {
			status: true,
			message: "If this email exists in our system, check your email for the reset link",
		});
		await sleep(500);
		assert.deepEqual(await mailbox.mailsTo(nobody, before), []);
	});

	test("an unknown reset token redirects with an error", async () => {
		const browser = new Browser(ORIGIN);
		const opened = await browser.open(`${BASE}/reset-password/unknowntoken1234567890ab?callbackURL=%2Freset`);
		assert.equal(opened.status, 302, opened.body);
		const landing = new URL(opened.location, ORIGIN);
		assert.equal(`${landing.origin}${landing.pathname}`, `${ORIGIN}/reset`);
		assert.equal(landing.searchParams.get("error"), "INVALID_TOKEN");
	});

	test("change-email of a verified user: confirm from the old address, verify the new one", async () => {
		const a = await signUp("chmail");
		const { mail: verifyMail } = await mailbox.expect(a.email, () =>
			a.browser.client.sendVerificationEmail({ email: a.email }),
		);
		assert.equal((await a.browser.open(verifyMail.url)).status, 302);

		const target = newEmail("chmail-new");
		const { result, mail: confirm } = await mailbox.expect(a.email, () =>
			a.browser.client.changeEmail({ newEmail: target, callbackURL: "/changed" }),
		);
		assert.deepEqual(ok(result, "change-email"), { status: true });
		mailedLink(confirm, "/verify-email");
		assert.equal((await session(a.browser)).user.email, a.email, "nothing changes before the confirmation");

		const { result: confirmed, mail: verify } = await mailbox.expect(target, () => a.browser.open(confirm.url));
		assert.equal(confirmed.status, 302, confirmed.body);
		assert.equal(confirmed.location, "/changed");
		mailedLink(verify, "/verify-email");

		const applied = await a.browser.open(verify.url);
		assert.equal(applied.status, 302, applied.body);
		assert.equal(applied.location, "/changed");
		const s = await session(a.browser);
		assert.equal(s.user.email, target);
		assert.equal(s.user.emailVerified, true);
		ok((await signIn(target)).res, "sign-in with the new address");
		failed((await signIn(a.email)).res, 401, "INVALID_EMAIL_OR_PASSWORD");
	});
});

// /delete-user has two modes (AUTH_DELETE_USER_CONFIRM_BY_EMAIL on authd,
// sendDeleteAccountVerification on better-auth); the Go harness runs the
// suite in each, on both servers.
describe("delete-user", () => {
	if (CONFIRM_BY_EMAIL) {
		test("delete-user through the mailed confirmation link", async () => {
			const a = await signUp("delete");
			const b = (await signIn(a.email)).browser;
			const { result, mail } = await mailbox.expect(a.email, () => a.browser.client.deleteUser({ callbackURL: "/goodbye" }));
			assert.deepEqual(ok(result, "delete-user"), { success: true, message: "Verification email sent" });
			assert.ok(await session(a.browser), "nothing is deleted before the confirmation");
			const url = mailedLink(mail, "/delete-user/callback");
			assert.match(url.searchParams.get("token"), /^[0-9a-z]{32}$/);
			assert.equal(url.searchParams.get("callbackURL"), "/goodbye");

			const opened = await a.browser.open(mail.url);
			assert.equal(opened.status, 302, opened.body);
			assert.equal(opened.location, "/goodbye");
			assert.equal(a.browser.jar.get("better-auth.session_token"), undefined, "cookie must be expired");
			assert.equal(await session(b), null, "every session of the user is gone");
			failed((await signIn(a.email)).res, 401, "INVALID_EMAIL_OR_PASSWORD");
			ok(await new Browser(ORIGIN).client.signUp.email({ name: "Again", email: a.email, password: PASSWORD }), "the address is free again");
		});

		test("delete-user with the password still mails a confirmation", async () => {
			const a = await signUp("delete-pw");
			const { result } = await mailbox.expect(a.email, () => a.browser.client.deleteUser({ password: a.password }));
			assert.deepEqual(ok(result, "delete-user"), { success: true, message: "Verification email sent" });
			assert.ok(await session(a.browser), "nothing is deleted before the confirmation");
		});
		return;
	}

	// What every at-once deletion leaves: the user, its sessions and its
	// cookies gone, the address free again.
	async function assertDeleted(a, others) {
		for (const name of a.browser.jar.names()) {
			assert.ok(!name.startsWith("better-auth."), `cookie ${name} must be expired`);
		}
		for (const b of others) assert.equal(await session(b), null, "every session of the user is gone");
		failed((await signIn(a.email)).res, 401, "INVALID_EMAIL_OR_PASSWORD");
		assert.equal(await pgCount(`SELECT count(*) FROM account WHERE user_id = $1`, [a.user.id]), 0, "accounts are gone");
		ok(await new Browser(ORIGIN).client.signUp.email({ name: "Again", email: a.email, password: PASSWORD }), "the address is free again");
	}

	test("delete-user with the password deletes at once and expires the cookies", async () => {
		const a = await signUp("delete-now");
		const b = (await signIn(a.email)).browser;
		// rememberMe=false adds the dont_remember cookie, which must go too.
		const c = await signIn(a.email, PASSWORD, { rememberMe: false });
		ok(c.res, "sign-in without rememberMe");
		assert.ok(c.browser.jar.get("better-auth.dont_remember"));
		failed(await c.browser.client.deleteUser({ password: "not the password" }), 400, "INVALID_PASSWORD");
		assert.ok(await session(c.browser), "a wrong password deletes nothing");
		const data = ok(await c.browser.client.deleteUser({ password: PASSWORD, callbackURL: "/goodbye" }), "delete-user");
		assert.deepEqual(data, { success: true, message: "User deleted" });
		await assertDeleted({ ...a, browser: c.browser }, [a.browser, b, c.browser]);
	});

	test("delete-user without a password deletes at once from a fresh session", async () => {
		const a = await signUp("delete-fresh");
		const data = ok(await a.browser.client.deleteUser({}), "delete-user");
		assert.deepEqual(data, { success: true, message: "User deleted" });
		await assertDeleted(a, [a.browser]);
	});

	test("delete-user without a password from a session older than freshAge is SESSION_EXPIRED", async () => {
		const a = await signUp("delete-stale");
		// freshAge is a day; the session was created a day and a minute ago.
		await pgCount(`UPDATE session SET created_at = created_at - interval '1 day 1 minute' WHERE user_id = $1`, [a.user.id]);
		const error = failed(await a.browser.client.deleteUser({}), 400, "SESSION_EXPIRED");
		assert.equal(error.message, "Session expired. Re-authenticate to perform this action.");
		assert.ok(await session(a.browser), "nothing is deleted");
		const data = ok(await a.browser.client.deleteUser({ password: PASSWORD }), "delete-user with the password");
		assert.deepEqual(data, { success: true, message: "User deleted" });
		await assertDeleted(a, [a.browser]);
	});
});

describe("errors", () => {
	test("wrong password", async () => {
		const a = await signUp("wrongpw");
		const error = failed((await signIn(a.email, "not the password")).res, 401, "INVALID_EMAIL_OR_PASSWORD");
		assert.equal(error.message, "Invalid email or password");
		failed((await signIn(newEmail("nobody"))).res, 401, "INVALID_EMAIL_OR_PASSWORD");
	});

	test("duplicate sign-up", async () => {
		const a = await signUp("dup");
		const res = await new Browser(ORIGIN).client.signUp.email({ name: "Dup", email: a.email.toUpperCase(), password: PASSWORD });
		const error = failed(res, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
		assert.equal(error.message, "User already exists. Use another email.");
	});

	test("short password", async () => {
		const res = await new Browser(ORIGIN).client.signUp.email({ name: "Short", email: newEmail("short"), password: "1234567" });
		const error = failed(res, 400, "PASSWORD_TOO_SHORT");
		assert.equal(error.message, "Password too short");
	});

	test("invalid email", async () => {
		const res = await new Browser(ORIGIN).client.signUp.email({ name: "Bad", email: "not-an-email", password: PASSWORD });
		const error = failed(res, 400, "VALIDATION_ERROR");
		assert.equal(error.message, "[body.email] Invalid email address");
	});

	test("a cookie-carrying request from a foreign origin is refused", async () => {
		const a = await signUp("origin");
		const res = await fetch(`${BASE}/sign-out`, {
			method: "POST",
			headers: { cookie: a.browser.jar.header(), origin: "http://evil.example", "content-type": "application/json" },
			body: "{}",
		});
		assert.equal(res.status, 403);
		assert.deepEqual(await res.json(), { message: "Invalid origin", code: "INVALID_ORIGIN" });
		assert.ok(await session(a.browser), "the session survives");
	});
});
