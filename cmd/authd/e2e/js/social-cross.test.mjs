// Cross-server social sign-in on one database: FIRST_URL and SECOND_URL are
// two servers (authd and the real better-auth, in either order) with the
// same provider and settings (token encryption on), so every row one
// writes, the other must read. Env: FIRST_URL, SECOND_URL, IDP_URL, PG*.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { Browser } from "./browser.mjs";
import pg from "pg";

const FIRST = new URL(process.env.FIRST_URL ?? assert.fail("FIRST_URL is not set")).origin;
const SECOND = new URL(process.env.SECOND_URL ?? assert.fail("SECOND_URL is not set")).origin;

const newEmail = (tag) => `${tag}-${randomBytes(6).toString("hex")}@example.com`;

function ok(res, what) {
	assert.equal(res.error, null, `${what}: ${JSON.stringify(res.error)}`);
	return res.data;
}

async function signIn(origin, email) {
	const browser = new Browser(origin);
	const data = ok(
		await browser.client.signIn.social({ provider: "fake", callbackURL: "/dash", newUserCallbackURL: "/welcome", loginHint: email, disableRedirect: true }),
		"sign-in/social",
	);
	const idp = await fetch(data.url, { redirect: "manual" });
	const res = await browser.open(idp.headers.get("location"));
	return { browser, location: res.location };
}

test("a user made by one server's social sign-in signs in on the other, whose tokens both read", async () => {
	const email = newEmail("cross");
	const first = await signIn(FIRST, email);
	assert.equal(first.location, "/welcome");
	const user = ok(await first.browser.client.getSession(), "get-session").user;

	const second = await signIn(SECOND, email);
	assert.equal(second.location, "/dash", "the second server did not find the account");
	assert.equal(ok(await second.browser.client.getSession(), "get-session").user.id, user.id);

	const [acc] = ok(await second.browser.client.listAccounts(), "list-accounts");
	assert.equal(acc.providerId, "fake");
	assert.deepEqual(acc.scopes, ["openid", "email", "profile"]);

	// Tokens are stored encrypted; each server opens what the other sealed.
	const pool = new pg.Pool({ max: 1 });
	try {
		const { rows } = await pool.query("select access_token, refresh_token from account where id = $1", [acc.id]);
		assert.match(rows[0].access_token, /^[0-9a-f]+$/, "access token stored in clear");
		assert.match(rows[0].refresh_token, /^[0-9a-f]+$/, "refresh token stored in clear");
	} finally {
		await pool.end();
	}
	const at = ok(await second.browser.client.getAccessToken({ accountId: acc.id }), "get-access-token on the second server");
	assert.match(at.accessToken, /^at-/);
	const rt = ok(await second.browser.client.refreshToken({ accountId: acc.id }), "refresh-token on the second server");
	assert.match(rt.refreshToken, /^rt-/);
	const back = ok(await first.browser.client.getAccessToken({ accountId: acc.id }), "get-access-token on the first server");
	assert.equal(back.accessToken, rt.accessToken, "the first server did not read the refreshed token");
	const again = ok(await first.browser.client.refreshToken({ accountId: acc.id }), "refresh-token on the first server");
	assert.notEqual(again.accessToken, rt.accessToken);
});

test("an account linked on one server signs in on the other", async () => {
	const email = newEmail("crosslink");
	const local = new Browser(FIRST);
	ok(await local.client.signUp.email({ name: "Local", email, password: "correct horse battery" }), "sign-up");
	const data = ok(
		await local.client.linkSocial({ provider: "fake", callbackURL: "/linked", loginHint: email, disableRedirect: true }),
		"link-social",
	);
	const idp = await fetch(data.url, { redirect: "manual" });
	assert.equal((await local.open(idp.headers.get("location"))).location, "/linked");
	const id = ok(await local.client.getSession(), "get-session").user.id;

	const second = await signIn(SECOND, email);
	assert.equal(second.location, "/dash");
	assert.equal(ok(await second.browser.client.getSession(), "get-session").user.id, id);
});
