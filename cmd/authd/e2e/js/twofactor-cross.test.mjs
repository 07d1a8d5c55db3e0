// twoFactor across two servers on one database and one secret: rows,
// cookies and challenges made by server A are used on server B. The Go
// harness runs it with A = authd, B = better-auth and the other way round.
// Env: A_URL, B_URL, APP_SECRET, MAIL_DIR, PG*.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { PASSWORD, TwoFactorBrowser, challenged, closeDB, enrolled, failed, mailedCode, newEmail, ok, totp, twoFactorRow } from "./twofactor.mjs";

const A = new URL(process.env.A_URL ?? assert.fail("A_URL is not set")).origin;
const B = new URL(process.env.B_URL ?? assert.fail("B_URL is not set")).origin;
after(closeDB);

test("enrolled on A: challenged on B, completed on B with TOTP, the session valid on both", async () => {
	const { browser: enroller, email } = await enrolled(A, "CrossTotp");
	assert.equal(ok(await enroller.on(B).client.getSession(), "get-session on B").user.twoFactorEnabled, true);
	const { browser, data } = await challenged(B, email);
	assert.deepEqual(data.twoFactorMethods, ["totp", "otp"]);
	const done = ok(await browser.client.twoFactor.verifyTotp({ code: await totp(email, 1) }), "verify-totp on B");
	assert.equal(done.user.twoFactorEnabled, true);
	assert.equal(ok(await browser.on(A).client.getSession(), "get-session on A").session.token, done.token);
});

test("a challenge started on A is finished on B: OTP sent by B, backup codes from A", async () => {
	const { email, backupCodes } = await enrolled(A, "CrossChallenge");
	const { browser } = await challenged(A, email);
	const onB = browser.on(B);
	const code = await mailedCode(email, async () => ok(await onB.client.twoFactor.sendOtp(), "send-otp on B"));
	ok(await onB.client.twoFactor.verifyOtp({ code }), "verify-otp on B");

	const second = await challenged(A, email);
	const done = ok(await second.browser.on(B).client.twoFactor.verifyBackupCode({ code: backupCodes[0] }), "backup code on B");
	assert.equal(ok(await second.browser.on(A).client.getSession(), "get-session on A").session.token, done.token);
	const third = await challenged(B, email);
	failed(await third.browser.on(A).client.twoFactor.verifyBackupCode({ code: backupCodes[0] }), 401, "INVALID_BACKUP_CODE");
});

test("session mode: a code sent on A is checked on B, which turns two-factor on", async () => {
	const browser = new TwoFactorBrowser(A);
	const email = newEmail("CrossOtpSession");
	ok(await browser.client.signUp.email({ name: "S", email, password: PASSWORD }), "sign-up on A");
	const code = await mailedCode(email, async () => ok(await browser.client.twoFactor.sendOtp(), "send-otp on A"));
	const onB = browser.on(B);
	const done = ok(await onB.client.twoFactor.verifyOtp({ code }), "verify-otp on B");
	assert.equal(done.user.twoFactorEnabled, true);
	assert.equal(ok(await onB.on(A).client.getSession(), "get-session on A").session.token, done.token);
	const { data } = await challenged(A, email);
	assert.deepEqual(data.twoFactorMethods, ["otp"]);
});

test("backup codes regenerated on B work on A; get-totp-uri on B gives A's URI", async () => {
	const { browser: enroller, email } = await enrolled(A, "CrossRegen");
	const onB = enroller.on(B);
	const uriB = ok(await onB.client.twoFactor.getTotpUri({ password: PASSWORD }), "get-totp-uri on B").totpURI;
	const uriA = ok(await enroller.client.twoFactor.getTotpUri({ password: PASSWORD }), "get-totp-uri on A").totpURI;
	assert.equal(uriB, uriA);
	const { backupCodes } = ok(await onB.client.twoFactor.generateBackupCodes({ password: PASSWORD }), "generate on B");
	const { browser: tab } = await challenged(A, email);
	ok(await tab.client.twoFactor.verifyBackupCode({ code: backupCodes[9] }), "B's code on A");
});

test("a device trusted on A skips the challenge on B", async () => {
	const { email } = await enrolled(A, "CrossTrust");
	const { browser } = await challenged(A, email);
	ok(await browser.client.twoFactor.verifyTotp({ code: await totp(email, 1), trustDevice: true }), "verify-totp on A");
	const first = browser.cookie("trust_device").value;
	const onB = browser.on(B);
	ok(await onB.client.signOut(), "sign-out on B");
	const res = ok(await onB.client.signIn.email({ email, password: PASSWORD }), "sign-in on B");
	assert.ok(res.token, `trusted on A, challenged on B: ${JSON.stringify(res)}`);
	assert.notEqual(onB.cookie("trust_device").value, first, "B rotated A's trust");
});

test("failures count toward one lock across both servers", async () => {
	const { email, backupCodes } = await enrolled(A, "CrossLock");
	for (const origin of [A, B]) {
		const { browser } = await challenged(origin, email);
		for (let i = 0; i < 5; i++) failed(await browser.client.twoFactor.verifyTotp({ code: "000000x" }), 401, "INVALID_CODE");
	}
	assert.equal((await twoFactorRow(email)).failed_verification_count, 10);
	for (const origin of [A, B]) {
		const { browser } = await challenged(origin, email);
		failed(await browser.client.twoFactor.verifyBackupCode({ code: backupCodes[0] }), 429, "ACCOUNT_TEMPORARILY_LOCKED");
	}
});

test("disabled on B: A signs in without a challenge", async () => {
	const { browser, email } = await enrolled(A, "CrossDisable");
	ok(await browser.on(B).client.twoFactor.disable({ password: PASSWORD }), "disable on B");
	const fresh = new TwoFactorBrowser(A);
	const res = ok(await fresh.client.signIn.email({ email, password: PASSWORD }), "sign-in on A");
	assert.ok(res.token);
	assert.equal(res.user.twoFactorEnabled, false);
});
