// Helpers for the twoFactor suites: a browser whose client carries
// twoFactorClient, TOTP codes computed from the secret as stored (decrypted
// with the app secret), and one-time codes read from the mails.
// Env: APP_SECRET, MAIL_DIR, PG*.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createOTP } from "@better-auth/utils/otp";
import { symmetricDecrypt } from "better-auth/crypto";
import { createAuthClient } from "better-auth/client";
import { twoFactorClient } from "better-auth/client/plugins";
import pg from "pg";
import { Browser } from "./browser.mjs";
import { Mailbox } from "./mail.mjs";

export const PASSWORD = "correct horse battery";
export const mailbox = new Mailbox(process.env.MAIL_DIR);
export const newEmail = (tag) => `${tag.toLowerCase()}-${randomBytes(6).toString("hex")}@example.com`;

export function ok(res, what) {
	assert.equal(res.error, null, `${what}: ${JSON.stringify(res.error)}`);
	return res.data;
}

export function failed(res, status, code) {
	assert.equal(res.data, null, `expected an error, got ${JSON.stringify(res.data)}`);
	assert.equal(res.error?.status, status, JSON.stringify(res.error));
	assert.equal(res.error?.code, code, JSON.stringify(res.error));
	return res.error;
}

/** A browser tab whose client has twoFactorClient; redirects records each onTwoFactorRedirect. */
export class TwoFactorBrowser extends Browser {
	constructor(origin) {
		super(origin);
		this.redirects = [];
		this.client = createAuthClient({
			baseURL: origin,
			fetchOptions: { customFetchImpl: this.fetch },
			plugins: [twoFactorClient({ onTwoFactorRedirect: ({ twoFactorMethods }) => this.redirects.push(twoFactorMethods) })],
		});
	}

	/** The same cookies, talking to another server (both share the database and the secret). */
	on(origin) {
		const other = new TwoFactorBrowser(origin);
		other.jar = this.jar;
		other.userAgent = this.userAgent;
		return other;
	}

	cookie(name) {
		return this.jar.get(`better-auth.${name}`);
	}
}

let pool;
export function db() {
	pool ??= new pg.Pool({ max: 2 });
	return pool;
}
export const closeDB = () => pool?.end();

export async function query(sql, params) {
	return (await db().query(sql, params)).rows;
}

/** The user's two_factor row. */
export async function twoFactorRow(email) {
	const rows = await query(
		`SELECT t.* FROM two_factor t JOIN "user" u ON u.id = t.user_id WHERE u.email = $1`,
		[email.toLowerCase()],
	);
	return rows[0];
}

/** The TOTP code of the current 30 s step plus offset, from the secret as stored. */
export async function totp(email, offset = 0) {
	const row = await twoFactorRow(email);
	assert.ok(row, `no two_factor row for ${email}`);
	assert.match(row.secret, /^[0-9a-f]{144}$/, "the secret is stored as 144 lower-case hex chars");
	const secret = await symmetricDecrypt({ key: process.env.APP_SECRET, data: row.secret });
	return createOTP(secret).hotp(Math.floor(Date.now() / 30_000) + offset);
}

/** Runs action and returns the 6-digit code, alone on a line, of the one mail to email it caused. */
export async function mailedCode(email, action) {
	const before = await mailbox.snapshot();
	await action();
	const deadline = Date.now() + 10_000;
	for (;;) {
		const mails = await mailbox.mailsTo(email, before);
		if (mails.length > 1) throw new Error(`expected one mail to ${email}, got ${mails.length}`);
		if (mails.length === 1) {
			const line = mails[0].text.split(/\r?\n/).find((l) => /^\d{6}$/.test(l.trim()));
			assert.ok(line, `no code alone on a line in:\n${mails[0].text}`);
			return line.trim();
		}
		if (Date.now() > deadline) throw new Error(`no mail to ${email} within 10 s`);
		await sleep(50);
	}
}

/** Signs up on origin and enrols TOTP; returns the browser (session rotated), email and backup codes. */
export async function enrolled(origin, tag) {
	const browser = new TwoFactorBrowser(origin);
	const email = newEmail(tag);
	ok(await browser.client.signUp.email({ name: "Two Factor", email, password: PASSWORD }), "sign-up");
	const { backupCodes } = ok(await browser.client.twoFactor.enable({ password: PASSWORD }), "enable");
	ok(await browser.client.twoFactor.verifyTotp({ code: await totp(email) }), "verify-totp (enrolment)");
	return { browser, email, backupCodes };
}

/** A fresh browser's password sign-in, expected to be challenged. */
export async function challenged(origin, email, opts = {}) {
	const browser = new TwoFactorBrowser(origin);
	const data = ok(await browser.client.signIn.email({ email, password: PASSWORD, ...opts }), "sign-in");
	assert.equal(data.twoFactorRedirect, true, `sign-in was not challenged: ${JSON.stringify(data)}`);
	return { browser, data };
}
