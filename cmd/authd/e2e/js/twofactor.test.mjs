// The twoFactor plugin through the real JS client with twoFactorClient. It
// must pass against the reference better-auth (with the plugin) and authd,
// both run with AUTH_TWO_FACTOR_ENABLED=true. No TOTP code is used twice:
// authd refuses a replayed code, better-auth does not.
// Env: AUTHD_URL, APP_SECRET, MAIL_DIR, PG*.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
	PASSWORD,
	TwoFactorBrowser,
	challenged,
	closeDB,
	enrolled,
	failed,
	mailedCode,
	newEmail,
	ok,
	query,
	totp,
	twoFactorRow,
} from "./twofactor.mjs";

const ORIGIN = new URL(process.env.AUTHD_URL ?? assert.fail("AUTHD_URL is not set")).origin;
const BASE = `${ORIGIN}/api/auth`;
after(closeDB);

function attrs(cookie) {
	assert.ok(cookie, "cookie missing");
	return cookie.attributes;
}

async function post(browser, path, body) {
	const res = await browser.fetch(`${BASE}${path}`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify(body),
	});
	return { status: res.status, body: await res.json().catch(() => null) };
}

describe("enrolment", () => {
	test("enable answers a TOTP URI and backup codes and changes nothing until the first code", async () => {
		const browser = new TwoFactorBrowser(ORIGIN);
		const email = newEmail("Enrol");
		const signedUp = ok(await browser.client.signUp.email({ name: "Enrol", email, password: PASSWORD }), "sign-up");
		assert.equal(signedUp.user.twoFactorEnabled, false, "sign-up's user carries twoFactorEnabled:false");
		failed(await browser.client.twoFactor.enable({ password: "wrong password" }), 400, "INVALID_PASSWORD");
		assert.equal((await post(browser, "/two-factor/enable", {})).body.code, "VALIDATION_ERROR");

		const data = ok(await browser.client.twoFactor.enable({ password: PASSWORD }), "enable");
		assert.equal(data.backupCodes.length, 10);
		for (const c of data.backupCodes) assert.match(c, /^[a-zA-Z0-9]{5}-[a-zA-Z0-9]{5}$/);
		const uri = new URL(data.totpURI);
		assert.equal(uri.protocol, "otpauth:");
		assert.equal(data.totpURI.split("?")[0], `otpauth://totp/Better%20Auth:${encodeURIComponent(email)}`);
		assert.equal(uri.searchParams.get("issuer"), "Better Auth");
		assert.equal(uri.searchParams.get("digits"), "6");
		assert.equal(uri.searchParams.get("period"), "30");
		const row = await twoFactorRow(email);
		assert.equal(row.verified, false);
		assert.match(row.backup_codes, /^[0-9a-f]+$/, "backup codes are sealed");
		assert.equal(ok(await browser.client.getSession(), "get-session").user.twoFactorEnabled, false);

		// Until a code is verified, sign-in is not challenged.
		const other = new TwoFactorBrowser(ORIGIN);
		const signedIn = ok(await other.client.signIn.email({ email, password: PASSWORD }), "sign-in");
		assert.ok(signedIn.token, "an unverified enrolment must not challenge sign-in");
		assert.equal(signedIn.user.twoFactorEnabled, false);

		// get-totp-uri gives the same URI back.
		failed(await browser.client.twoFactor.getTotpUri({ password: "wrong password" }), 400, "INVALID_PASSWORD");
		assert.equal(ok(await browser.client.twoFactor.getTotpUri({ password: PASSWORD }), "get-totp-uri").totpURI, data.totpURI);

		// Enabling again before verification replaces the secret.
		const again = ok(await browser.client.twoFactor.enable({ password: PASSWORD }), "enable again");
		assert.notEqual(again.totpURI, data.totpURI);
		assert.equal((await twoFactorRow(email)).id, row.id, "the row is updated in place");

		const before = browser.sessionToken();
		failed(await browser.client.twoFactor.verifyTotp({ code: "000000x" }), 401, "INVALID_CODE");
		const verified = ok(await browser.client.twoFactor.verifyTotp({ code: await totp(email) }), "verify-totp");
		assert.equal(verified.token, before, "the body describes the calling session");
		assert.notEqual(browser.sessionToken(), before, "the first right code rotates the session");
		const now = ok(await browser.client.getSession(), "get-session");
		assert.equal(now.user.twoFactorEnabled, true);
		assert.equal((await twoFactorRow(email)).verified, true);
		failed(await browser.client.twoFactor.enable({ password: PASSWORD }), 400, "TOTP_ALREADY_ENABLED");
	});

	test("update-user cannot set twoFactorEnabled", async () => {
		const browser = new TwoFactorBrowser(ORIGIN);
		ok(await browser.client.signUp.email({ name: "U", email: newEmail("UpdateFlag"), password: PASSWORD }), "sign-up");
		const refused = await post(browser, "/update-user", { twoFactorEnabled: true });
		assert.equal(refused.status, 400);
		assert.deepEqual(refused.body, { code: "FIELD_NOT_ALLOWED", message: "twoFactorEnabled is not allowed to be set" });
		ok(await browser.client.updateUser({ name: "V", twoFactorEnabled: false }), "update-user with a false flag");
		const { user } = ok(await browser.client.getSession(), "get-session");
		assert.equal(user.name, "V");
		assert.equal(user.twoFactorEnabled, false);
	});

	test("get-totp-uri without enrolment, generate-backup-codes without two-factor", async () => {
		const browser = new TwoFactorBrowser(ORIGIN);
		ok(await browser.client.signUp.email({ name: "N", email: newEmail("NoTwoFactor"), password: PASSWORD }), "sign-up");
		failed(await browser.client.twoFactor.getTotpUri({ password: PASSWORD }), 400, "TOTP_NOT_ENABLED");
		failed(await browser.client.twoFactor.generateBackupCodes({ password: PASSWORD }), 400, "TWO_FACTOR_NOT_ENABLED");
		failed(await browser.client.twoFactor.verifyTotp({ code: "123456" }), 400, "TOTP_NOT_ENABLED");
		failed(await browser.client.twoFactor.verifyBackupCode({ code: "12345-67890" }), 400, "BACKUP_CODES_NOT_ENABLED");
		const anonymous = new TwoFactorBrowser(ORIGIN);
		failed(await anonymous.client.twoFactor.enable({ password: PASSWORD }), 401, "UNAUTHORIZED");
		failed(await anonymous.client.twoFactor.verifyTotp({ code: "123456" }), 401, "INVALID_TWO_FACTOR_COOKIE");
		failed(await anonymous.client.twoFactor.sendOtp(), 401, "INVALID_TWO_FACTOR_COOKIE");
	});
});

describe("the sign-in challenge", () => {
	test("password sign-in answers a challenge, no session; a TOTP code completes it", async () => {
		const { email } = await enrolled(ORIGIN, "Challenge");
		const { browser, data } = await challenged(ORIGIN, email);
		assert.deepEqual(data, { twoFactorRedirect: true, twoFactorMethods: ["totp", "otp"] });
		assert.deepEqual(browser.redirects, [["totp", "otp"]], "onTwoFactorRedirect ran with the methods");
		assert.equal(browser.cookie("session_token"), undefined, "no session cookie");
		const challenge = attrs(browser.cookie("two_factor"));
		assert.equal(challenge["max-age"], "600");
		assert.equal(challenge.path, "/");
		assert.equal(challenge.httponly, true);
		assert.equal(challenge.samesite, "Lax");
		assert.equal(ok(await browser.client.getSession(), "get-session"), null);
		const stolen = browser.cookie("two_factor").value;

		failed(await browser.client.twoFactor.verifyTotp({ code: "000000x" }), 401, "INVALID_CODE");
		const done = ok(await browser.client.twoFactor.verifyTotp({ code: await totp(email, 1) }), "verify-totp");
		assert.equal(done.user.email, email);
		assert.equal(done.user.twoFactorEnabled, true);
		assert.equal(browser.sessionToken(), done.token);
		assert.equal(attrs(browser.cookie("session_token"))["max-age"], "604800");
		assert.equal(browser.cookie("two_factor"), undefined, "the challenge cookie is cleared");
		assert.equal(ok(await browser.client.getSession(), "get-session").user.email, email);

		// The spent challenge cannot be completed again.
		const thief = new TwoFactorBrowser(ORIGIN);
		thief.jar.store(new Headers([["set-cookie", `better-auth.two_factor=${stolen}; Path=/`]]));
		const replay = await post(thief, "/two-factor/verify-backup-code", { code: "x" });
		assert.equal(replay.status, 401);
		assert.equal(replay.body.code, "INVALID_TWO_FACTOR_COOKIE");
	});

	test("a challenged sign-in with a callbackURL answers the challenge and the Location", async () => {
		const { email } = await enrolled(ORIGIN, "ChallengeCallback");
		const browser = new TwoFactorBrowser(ORIGIN);
		const res = await browser.fetch(`${BASE}/sign-in/email`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ email, password: PASSWORD, callbackURL: "/dashboard" }),
		});
		// As for any sign-in with a callbackURL: a 200 with a Location
		// header, which fetch does not follow.
		assert.equal(res.status, 200);
		assert.equal(res.headers.get("location"), "/dashboard");
		assert.deepEqual(await res.json(), { twoFactorRedirect: true, twoFactorMethods: ["totp", "otp"] });
		assert.equal(browser.cookie("session_token"), undefined, "no session cookie");
		assert.ok(browser.cookie("two_factor"), "the challenge cookie is set");
	});

	test("a forged challenge cookie is no challenge", async () => {
		const { email } = await enrolled(ORIGIN, "Forged");
		const { browser } = await challenged(ORIGIN, email);
		const [value] = decodeURIComponent(browser.cookie("two_factor").value).split(".");
		const forged = new TwoFactorBrowser(ORIGIN);
		forged.jar.store(new Headers([["set-cookie", `better-auth.two_factor=${encodeURIComponent(`${value}.${"A".repeat(43)}=`)}; Path=/`]]));
		failed(await forged.client.twoFactor.verifyTotp({ code: "123456" }), 401, "INVALID_TWO_FACTOR_COOKIE");
	});

	test("rememberMe:false carries through the challenge", async () => {
		const { email } = await enrolled(ORIGIN, "DontRemember");
		const { browser } = await challenged(ORIGIN, email, { rememberMe: false });
		assert.ok(browser.cookie("dont_remember"), "the dont_remember cookie is set at sign-in");
		const done = ok(await browser.client.twoFactor.verifyTotp({ code: await totp(email, 1) }), "verify-totp");
		assert.equal(attrs(browser.cookie("session_token"))["max-age"], undefined, "a browser-session cookie");
		const [row] = await query("SELECT expires_at FROM session WHERE token = $1", [done.token]);
		const ttl = row.expires_at.getTime() - Date.now();
		assert.ok(ttl > 23 * 3600_000 && ttl <= 24 * 3600_000 + 60_000, `session lasts ${ttl} ms, want a day`);
	});

	test("a mailed one-time code completes the challenge", async () => {
		const { email } = await enrolled(ORIGIN, "Otp");
		const { browser } = await challenged(ORIGIN, email);
		failed(await browser.client.twoFactor.verifyOtp({ code: "123456" }), 400, "OTP_HAS_EXPIRED");
		const code = await mailedCode(email, async () => ok(await browser.client.twoFactor.sendOtp(), "send-otp"));
		const wrong = code === "000000" ? "111111" : "000000";
		failed(await browser.client.twoFactor.verifyOtp({ code: wrong }), 401, "INVALID_CODE");
		const done = ok(await browser.client.twoFactor.verifyOtp({ code }), "verify-otp");
		assert.equal(done.user.email, email);
		assert.equal(browser.sessionToken(), done.token);
	});

	test("five wrong one-time codes spend the code, not the challenge", async () => {
		const { email } = await enrolled(ORIGIN, "OtpTries");
		const { browser } = await challenged(ORIGIN, email);
		const code = await mailedCode(email, async () => ok(await browser.client.twoFactor.sendOtp(), "send-otp"));
		const wrong = code === "000000" ? "111111" : "000000";
		for (let i = 0; i < 5; i++) failed(await browser.client.twoFactor.verifyOtp({ code: wrong }), 401, "INVALID_CODE");
		failed(await browser.client.twoFactor.verifyOtp({ code }), 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE");
		failed(await browser.client.twoFactor.verifyOtp({ code }), 400, "OTP_HAS_EXPIRED");
		const fresh = await mailedCode(email, async () => ok(await browser.client.twoFactor.sendOtp(), "send-otp"));
		ok(await browser.client.twoFactor.verifyOtp({ code: fresh }), "verify-otp with a new code");
	});

	test("a backup code completes a challenge once", async () => {
		const { email, backupCodes } = await enrolled(ORIGIN, "Backup");
		const first = await challenged(ORIGIN, email);
		const done = ok(await first.browser.client.twoFactor.verifyBackupCode({ code: backupCodes[0] }), "verify-backup-code");
		assert.equal(first.browser.sessionToken(), done.token);
		const second = await challenged(ORIGIN, email);
		failed(await second.browser.client.twoFactor.verifyBackupCode({ code: backupCodes[0] }), 401, "INVALID_BACKUP_CODE");
		ok(await second.browser.client.twoFactor.verifyBackupCode({ code: backupCodes[1] }), "another backup code");
	});

	test("five wrong codes end the challenge", async () => {
		const { email } = await enrolled(ORIGIN, "Attempts");
		const { browser } = await challenged(ORIGIN, email);
		for (let i = 0; i < 3; i++) failed(await browser.client.twoFactor.verifyTotp({ code: "000000x" }), 401, "INVALID_CODE");
		for (let i = 0; i < 2; i++) failed(await browser.client.twoFactor.verifyBackupCode({ code: "nope" }), 401, "INVALID_BACKUP_CODE");
		failed(await browser.client.twoFactor.verifyTotp({ code: await totp(email, 1) }), 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE");
		failed(await browser.client.twoFactor.verifyTotp({ code: await totp(email, 1) }), 401, "INVALID_TWO_FACTOR_COOKIE");
	});

	test("ten failures lock the account; sign-in and send-otp still answer", async () => {
		const { email, backupCodes } = await enrolled(ORIGIN, "Lockout");
		for (let round = 0; round < 2; round++) {
			const { browser } = await challenged(ORIGIN, email);
			for (let i = 0; i < 5; i++) failed(await browser.client.twoFactor.verifyTotp({ code: "000000x" }), 401, "INVALID_CODE");
		}
		const { browser } = await challenged(ORIGIN, email);
		failed(await browser.client.twoFactor.verifyBackupCode({ code: backupCodes[0] }), 429, "ACCOUNT_TEMPORARILY_LOCKED");
		failed(await browser.client.twoFactor.verifyTotp({ code: await totp(email, 1) }), 429, "ACCOUNT_TEMPORARILY_LOCKED");
		const code = await mailedCode(email, async () => ok(await browser.client.twoFactor.sendOtp(), "send-otp during a lock"));
		failed(await browser.client.twoFactor.verifyOtp({ code }), 429, "ACCOUNT_TEMPORARILY_LOCKED");
		const row = await twoFactorRow(email);
		assert.equal(row.failed_verification_count, 10);
		const lock = row.locked_until.getTime() - Date.now();
		assert.ok(lock > 800_000 && lock <= 900_000 + 60_000, `locked for ${lock} ms, want 900 s`);
	});
});

describe("trusted devices", () => {
	test("trustDevice skips the next challenge on that browser and rotates the trust", async () => {
		const { email } = await enrolled(ORIGIN, "Trust");
		const { browser } = await challenged(ORIGIN, email);
		ok(await browser.client.twoFactor.verifyTotp({ code: await totp(email, 1), trustDevice: true }), "verify-totp");
		const trust = attrs(browser.cookie("trust_device"));
		assert.equal(trust["max-age"], "2592000");
		assert.equal(trust.httponly, true);
		const first = browser.cookie("trust_device").value;
		ok(await browser.client.signOut(), "sign-out");

		const again = ok(await browser.client.signIn.email({ email, password: PASSWORD }), "trusted sign-in");
		assert.ok(again.token, `a trusted browser is not challenged: ${JSON.stringify(again)}`);
		assert.equal(again.user.twoFactorEnabled, true);
		assert.notEqual(browser.cookie("trust_device").value, first, "the trust rotates on use");

		// The old trust cookie, replayed elsewhere, is refused and cleared.
		const replay = new TwoFactorBrowser(ORIGIN);
		replay.jar.store(new Headers([["set-cookie", `better-auth.trust_device=${first}; Path=/`]]));
		const res = ok(await replay.client.signIn.email({ email, password: PASSWORD }), "sign-in with a rotated trust");
		assert.equal(res.twoFactorRedirect, true);
		assert.equal(replay.cookie("trust_device"), undefined);
	});

	test("a trust cookie of another user does not skip the challenge", async () => {
		const ann = await enrolled(ORIGIN, "TrustAnn");
		const bob = await enrolled(ORIGIN, "TrustBob");
		const { browser } = await challenged(ORIGIN, ann.email);
		ok(await browser.client.twoFactor.verifyTotp({ code: await totp(ann.email, 1), trustDevice: true }), "verify-totp");
		ok(await browser.client.signOut(), "sign-out");
		const res = ok(await browser.client.signIn.email({ email: bob.email, password: PASSWORD }), "bob on ann's browser");
		assert.equal(res.twoFactorRedirect, true);
	});
});

describe("management", () => {
	test("generate-backup-codes replaces the codes", async () => {
		const { browser, email, backupCodes } = await enrolled(ORIGIN, "Regenerate");
		failed(await browser.client.twoFactor.generateBackupCodes({ password: "wrong password" }), 400, "INVALID_PASSWORD");
		const { backupCodes: fresh } = ok(await browser.client.twoFactor.generateBackupCodes({ password: PASSWORD }), "generate");
		assert.equal(fresh.length, 10);
		const { browser: tab } = await challenged(ORIGIN, email);
		failed(await tab.client.twoFactor.verifyBackupCode({ code: backupCodes[0] }), 401, "INVALID_BACKUP_CODE");
		ok(await tab.client.twoFactor.verifyBackupCode({ code: fresh[0] }), "a new code");
	});

	test("a backup code checked with a session answers the session", async () => {
		const { browser, backupCodes } = await enrolled(ORIGIN, "BackupSession");
		const token = browser.sessionToken();
		const res = ok(await browser.client.twoFactor.verifyBackupCode({ code: backupCodes[2] }), "verify-backup-code");
		assert.equal(res.token, token);
		failed(await browser.client.twoFactor.verifyBackupCode({ code: backupCodes[2] }), 401, "INVALID_BACKUP_CODE");
	});

	test("disable turns two-factor off and forgets the trusted device", async () => {
		const { email } = await enrolled(ORIGIN, "Disable");
		const { browser } = await challenged(ORIGIN, email);
		ok(await browser.client.twoFactor.verifyTotp({ code: await totp(email, 1), trustDevice: true }), "verify-totp");
		failed(await browser.client.twoFactor.disable({ password: "wrong password" }), 400, "INVALID_PASSWORD");
		const before = browser.sessionToken();
		assert.deepEqual(ok(await browser.client.twoFactor.disable({ password: PASSWORD }), "disable"), { status: true });
		assert.notEqual(browser.sessionToken(), before, "disable rotates the session");
		assert.equal(browser.cookie("trust_device"), undefined, "the trust cookie is cleared");
		assert.equal(await twoFactorRow(email), undefined);
		assert.equal(ok(await browser.client.getSession(), "get-session").user.twoFactorEnabled, false);
		const fresh = new TwoFactorBrowser(ORIGIN);
		const res = ok(await fresh.client.signIn.email({ email, password: PASSWORD }), "sign-in after disable");
		assert.ok(res.token);
	});

	test("session mode: a mailed code answers the session, and turns two-factor on for a user without it", async () => {
		const { browser, email } = await enrolled(ORIGIN, "OtpSession");
		const token = browser.sessionToken();
		const code = await mailedCode(email, async () => ok(await browser.client.twoFactor.sendOtp(), "send-otp with a session"));
		const same = ok(await browser.client.twoFactor.verifyOtp({ code }), "verify-otp with a session");
		assert.equal(same.token, token, "two-factor on already: the session stays");
		assert.equal(browser.sessionToken(), token);

		const plain = new TwoFactorBrowser(ORIGIN);
		const other = newEmail("OtpSessionOff");
		ok(await plain.client.signUp.email({ name: "P", email: other, password: PASSWORD }), "sign-up");
		const before = plain.sessionToken();
		const first = await mailedCode(other, async () => ok(await plain.client.twoFactor.sendOtp(), "send-otp without two-factor"));
		const turnedOn = ok(await plain.client.twoFactor.verifyOtp({ code: first }), "verify-otp without two-factor");
		assert.notEqual(turnedOn.token, before, "the answer carries the rotated session");
		assert.equal(plain.sessionToken(), turnedOn.token);
		assert.equal(turnedOn.user.twoFactorEnabled, true);
		const { data } = await challenged(ORIGIN, other);
		assert.deepEqual(data.twoFactorMethods, ["otp"], "no two_factor row: challenged with otp alone");
	});

	test("OTP-only two-factor: enable with method otp, challenged with otp alone", async () => {
		const browser = new TwoFactorBrowser(ORIGIN);
		const email = newEmail("OtpOnly");
		ok(await browser.client.signUp.email({ name: "O", email, password: PASSWORD }), "sign-up");
		const before = browser.sessionToken();
		assert.deepEqual(ok(await browser.client.twoFactor.enable({ password: PASSWORD, method: "otp" }), "enable otp"), { method: "otp" });
		assert.notEqual(browser.sessionToken(), before);
		const { browser: tab, data } = await challenged(ORIGIN, email);
		assert.deepEqual(data.twoFactorMethods, ["otp"]);
		const code = await mailedCode(email, async () => ok(await tab.client.twoFactor.sendOtp(), "send-otp"));
		ok(await tab.client.twoFactor.verifyOtp({ code }), "verify-otp");
	});
});
