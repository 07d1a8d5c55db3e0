// Social sign-in through the real better-auth JS client, against a loopback
// OpenID provider (adapters/oauth/oauthtest) that the Go harness starts and
// points the server at: provider "fake" (OIDC discovery) and "plain"
// (explicit OAuth2 endpoints, no PKCE). The suite must pass against both
// the reference better-auth server and authd.
// Env: AUTHD_URL (server origin), IDP_URL (provider issuer), PG*.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { Browser } from "./browser.mjs";

const ORIGIN = new URL(process.env.AUTHD_URL ?? assert.fail("AUTHD_URL is not set")).origin;
const BASE = `${ORIGIN}/api/auth`;
const IDP = process.env.IDP_URL ?? assert.fail("IDP_URL is not set");
const PASSWORD = "correct horse battery";

// The provider makes an account for any login_hint; "unverified…" ones
// have an unverified address.
const newEmail = (tag) => `${tag}-${randomBytes(6).toString("hex")}@example.com`;

function ok(res, what) {
	assert.equal(res.error, null, `${what}: ${JSON.stringify(res.error)}`);
	return res.data;
}

function failed(res, status, code) {
	assert.equal(res.data, null, `expected an error, got ${JSON.stringify(res.data)}`);
	assert.equal(res.error?.status, status, JSON.stringify(res.error));
	assert.equal(res.error?.code, code, JSON.stringify(res.error));
}

/** The provider's leg: it consents at once and redirects to the callback. */
async function consent(url) {
	const res = await fetch(url, { redirect: "manual" });
	assert.equal(res.status, 302, `provider answered ${res.status}`);
	const callback = res.headers.get("location");
	assert.ok(callback.startsWith(`${BASE}/callback/`), callback);
	return callback;
}

async function startSocial(browser, opts) {
	const body = {
		provider: "fake",
		callbackURL: "/dash",
		newUserCallbackURL: "/welcome",
		errorCallbackURL: "/oops",
		disableRedirect: true,
		...opts,
	};
	const data = ok(await browser.client.signIn.social(body), "sign-in/social");
	assert.equal(data.redirect, false);
	return { url: data.url, callback: await consent(data.url) };
}

/** A whole sign-in; returns where the callback redirected. */
async function socialSignIn(browser, opts) {
	const { callback } = await startSocial(browser, opts);
	return browser.open(callback);
}

async function signUp(email) {
	const browser = new Browser(ORIGIN);
	ok(await browser.client.signUp.email({ name: "Local User", email, password: PASSWORD }), "sign-up");
	return browser;
}

describe("social sign-in", () => {
	test("the authorization URL carries state, PKCE S256, nonce and the scopes", async () => {
		const browser = new Browser(ORIGIN);
		const res = await browser.client.signIn.social({ provider: "fake", callbackURL: "/dash", scopes: ["extra"] });
		const data = ok(res, "sign-in/social");
		assert.equal(data.redirect, true);
		const url = new URL(data.url);
		assert.equal(`${url.origin}${url.pathname}`, `${IDP}/authorize`);
		const q = url.searchParams;
		assert.equal(q.get("response_type"), "code");
		assert.equal(q.get("client_id"), "client-e2e");
		assert.equal(q.get("scope"), "openid extra email profile");
		assert.equal(q.get("redirect_uri"), `${BASE}/callback/fake`);
		assert.equal(q.get("code_challenge_method"), "S256");
		assert.equal(q.get("code_challenge").length, 43);
		assert.equal(q.get("state").length, 32);
		assert.equal(q.get("nonce").length, 32);
		const state = browser.jar.get("better-auth.state");
		assert.ok(state, "no state cookie");
		assert.equal(decodeURIComponent(state.value).split(".")[0], q.get("state"));
		assert.equal(state.attributes["max-age"], "300");
		assert.equal(state.attributes.samesite?.toLowerCase(), "lax");
		assert.ok(state.attributes.httponly);
	});

	test("a new user lands on newUserCallbackURL, signed in", async () => {
		const browser = new Browser(ORIGIN);
		const email = newEmail("newsocial");
		const res = await socialSignIn(browser, { loginHint: email });
		assert.equal(res.status, 302);
		assert.equal(res.location, "/welcome");
		assert.equal(browser.jar.get("better-auth.state"), undefined, "state cookie not cleared");
		const s = ok(await browser.client.getSession(), "get-session");
		assert.equal(s.user.email, email);
		assert.equal(s.user.emailVerified, true);
		assert.equal(s.user.name, `IdP ${email.split("@")[0]}`);
		const accounts = ok(await browser.client.listAccounts(), "list-accounts");
		assert.equal(accounts.length, 1);
		assert.equal(accounts[0].providerId, "fake");
		assert.match(accounts[0].accountId, /^sub-/);
		assert.deepEqual(accounts[0].scopes, ["openid", "email", "profile"]);
	});

	test("a returning user lands on callbackURL as the same user", async () => {
		const email = newEmail("returning");
		const first = new Browser(ORIGIN);
		await socialSignIn(first, { loginHint: email });
		const id = ok(await first.client.getSession(), "get-session").user.id;
		const again = new Browser(ORIGIN);
		const res = await socialSignIn(again, { loginHint: email, scopes: ["more"] });
		assert.equal(res.location, "/dash");
		assert.equal(ok(await again.client.getSession(), "get-session").user.id, id);
		const accounts = ok(await again.client.listAccounts(), "list-accounts");
		assert.equal(accounts.length, 1);
		assert.deepEqual(accounts[0].scopes, ["openid", "email", "profile"], "a sign-in changed the scope");
	});

	test("the provider's refusal goes to errorCallbackURL with its code", async () => {
		const browser = new Browser(ORIGIN);
		const res = await socialSignIn(browser, { loginHint: newEmail("denied"), additionalParams: { deny: "1" } });
		assert.equal(res.location, "/oops?error=access_denied&error_description=The+user+said+no");
		assert.equal(ok(await browser.client.getSession(), "get-session"), null);
	});

	test("a replayed callback is refused", async () => {
		const browser = new Browser(ORIGIN);
		const { callback } = await startSocial(browser, { loginHint: newEmail("replay") });
		assert.equal((await browser.open(callback)).location, "/welcome");
		const again = await browser.open(callback);
		assert.equal(again.location, `${BASE}/error?error=state_mismatch`);
	});

	test("a callback opened in another browser is refused, and the flow stays the first browser's", async () => {
		const browser = new Browser(ORIGIN);
		const { callback } = await startSocial(browser, { loginHint: newEmail("foreign") });
		const other = new Browser(ORIGIN);
		const res = await other.open(callback);
		assert.equal(res.location, "/oops?error=state_mismatch");
		assert.equal(other.sessionToken(), undefined);
		assert.equal((await browser.open(callback)).location, "/welcome");
	});

	test("a callback without state goes to the error page", async () => {
		const res = await new Browser(ORIGIN).open(`${BASE}/callback/fake?code=x`);
		assert.equal(res.location, `${BASE}/error?error=state_not_found`);
	});

	test("an unknown provider is 404 PROVIDER_NOT_FOUND", async () => {
		const browser = new Browser(ORIGIN);
		failed(await browser.client.signIn.social({ provider: "nope" }), 404, "PROVIDER_NOT_FOUND");
		failed(await browser.client.signIn.social({ provider: "github" }), 404, "PROVIDER_NOT_FOUND");
	});

	test("an untrusted callbackURL is refused", async () => {
		const browser = new Browser(ORIGIN);
		failed(await browser.client.signIn.social({ provider: "fake", callbackURL: "https://evil.example.com/x" }), 403, "INVALID_CALLBACK_URL");
	});

	test("an existing email/password user with an unverified email is not linked implicitly", async () => {
		const email = newEmail("implicit");
		await signUp(email);
		const res = await socialSignIn(new Browser(ORIGIN), { loginHint: email });
		assert.equal(res.location, "/oops?error=account_not_linked");
	});

	test("a plain OAuth2 provider (no discovery, no PKCE) signs in by its user id", async () => {
		const browser = new Browser(ORIGIN);
		const email = newEmail("plain");
		const { url, callback } = await startSocial(browser, { provider: "plain", loginHint: email });
		const q = new URL(url).searchParams;
		assert.equal(q.get("code_challenge"), null);
		assert.equal(q.get("nonce"), null);
		assert.equal(q.get("scope"), "email profile");
		assert.equal((await browser.open(callback)).location, "/welcome");
		const [acc] = ok(await browser.client.listAccounts(), "list-accounts");
		assert.equal(acc.providerId, "plain");
		assert.match(acc.accountId, /^sub-/);
		assert.deepEqual(acc.scopes, ["email", "profile"]);
	});
});

describe("account linking and provider tokens", () => {
	test("linkSocial links, tokens are served and refreshed, unlinkAccount removes it", async () => {
		const email = newEmail("linker");
		const browser = await signUp(email);
		const data = ok(
			await browser.client.linkSocial({ provider: "fake", callbackURL: "/linked", errorCallbackURL: "/oops", loginHint: email, disableRedirect: true }),
			"link-social",
		);
		assert.equal(data.redirect, false);
		const res = await browser.open(await consent(data.url));
		assert.equal(res.location, "/linked");
		const accounts = ok(await browser.client.listAccounts(), "list-accounts");
		assert.deepEqual(accounts.map((a) => a.providerId).sort(), ["credential", "fake"]);
		const fake = accounts.find((a) => a.providerId === "fake");
		assert.deepEqual(fake.scopes, ["openid", "email", "profile"]);
		assert.deepEqual(accounts.find((a) => a.providerId === "credential").scopes, []);
		const s = ok(await browser.client.getSession(), "get-session");
		assert.equal(s.user.emailVerified, false, "linking verified the user");
		// updateUserInfoOnLink is on: the provider's name replaces the local one.
		assert.equal(s.user.name, `IdP ${email.split("@")[0]}`);

		const at = ok(await browser.client.getAccessToken({ accountId: fake.id }), "get-access-token");
		assert.match(at.accessToken, /^at-/);
		assert.deepEqual(at.scopes, ["openid", "email", "profile"]);
		assert.ok(at.idToken);
		assert.ok(new Date(at.accessTokenExpiresAt).getTime() > Date.now());

		const rt = ok(await browser.client.refreshToken({ accountId: fake.id }), "refresh-token");
		assert.match(rt.accessToken, /^at-/);
		assert.notEqual(rt.accessToken, at.accessToken);
		assert.match(rt.refreshToken, /^rt-/);
		assert.equal(rt.providerId, "fake");
		assert.equal(rt.accountId, fake.id);
		assert.equal(rt.scope, "openid,email,profile");
		assert.equal(rt.refreshTokenExpiresAt, null);

		const at2 = ok(await browser.client.getAccessToken({ accountId: fake.id }), "get-access-token");
		assert.equal(at2.accessToken, rt.accessToken);

		const info = ok(await browser.client.accountInfo({ query: { accountId: fake.id } }), "account-info");
		assert.equal(info.user.email, email);
		assert.equal(info.user.emailVerified, true);
		assert.deepEqual(info.account, { id: fake.id, providerId: "fake", accountId: fake.accountId });
		assert.equal(info.data.sub, fake.accountId);

		assert.deepEqual(ok(await browser.client.unlinkAccount({ providerId: "fake", accountId: fake.id }), "unlink-account"), { status: true });
		const left = ok(await browser.client.listAccounts(), "list-accounts");
		assert.deepEqual(left.map((a) => a.providerId), ["credential"]);
	});

	test("linkSocial with another email is refused", async () => {
		const browser = await signUp(newEmail("linkother"));
		const data = ok(
			await browser.client.linkSocial({ provider: "fake", callbackURL: "/linked", errorCallbackURL: "/oops", loginHint: newEmail("someoneelse"), disableRedirect: true }),
			"link-social",
		);
		const res = await browser.open(await consent(data.url));
		assert.equal(res.location, "/oops?error=email_does_not_match");
	});

	test("an account linked to one user cannot be linked to another", async () => {
		const email = newEmail("owned");
		await socialSignIn(new Browser(ORIGIN), { loginHint: email });
		// allowDifferentEmails is off, so the second user must share the
		// address: impossible; the first check to fail is the email.
		const browser = await signUp(newEmail("thief"));
		const data = ok(
			await browser.client.linkSocial({ provider: "fake", callbackURL: "/linked", errorCallbackURL: "/oops", loginHint: email, disableRedirect: true }),
			"link-social",
		);
		assert.equal((await browser.open(await consent(data.url))).location, "/oops?error=email_does_not_match");
	});

	test("linkSocial needs a session", async () => {
		failed(await new Browser(ORIGIN).client.linkSocial({ provider: "fake", callbackURL: "/linked" }), 401, "UNAUTHORIZED");
	});

	test("the last account cannot be unlinked, nor another user's used", async () => {
		const browser = new Browser(ORIGIN);
		await socialSignIn(browser, { loginHint: newEmail("lonely") });
		const [acc] = ok(await browser.client.listAccounts(), "list-accounts");
		failed(await browser.client.unlinkAccount({ providerId: "fake", accountId: acc.id }), 400, "FAILED_TO_UNLINK_LAST_ACCOUNT");
		const other = new Browser(ORIGIN);
		await socialSignIn(other, { loginHint: newEmail("other") });
		failed(await other.client.getAccessToken({ accountId: acc.id }), 400, "ACCOUNT_NOT_FOUND");
		failed(await other.client.refreshToken({ accountId: acc.id }), 400, "ACCOUNT_NOT_FOUND");
		// The token routes take the account row id alone (a strict object).
		failed(await browser.client.getAccessToken({ providerId: "fake", accountId: acc.id }), 400, "VALIDATION_ERROR");
		failed(await browser.client.getAccessToken({ providerId: "fake" }), 400, "VALIDATION_ERROR");
	});
});

describe("id_token sign-in", () => {
	const mint = async (params) => (await fetch(`${IDP}/test/id-token?${new URLSearchParams(params)}`)).text();

	test("a valid id_token signs in at once", async () => {
		const browser = new Browser(ORIGIN);
		const email = newEmail("idtoken");
		const token = await mint({ email, nonce: "n-1" });
		const data = ok(await browser.client.signIn.social({ provider: "fake", idToken: { token, nonce: "n-1" } }), "sign-in/social");
		assert.equal(data.redirect, false);
		assert.equal(data.user.email, email);
		assert.equal(data.user.emailVerified, true);
		assert.ok(data.token);
		assert.equal(ok(await browser.client.getSession(), "get-session").user.email, email);
		// The same subject through the redirect flow is the same user.
		const again = new Browser(ORIGIN);
		assert.equal((await socialSignIn(again, { loginHint: email })).location, "/dash");
		assert.equal(ok(await again.client.getSession(), "get-session").user.id, data.user.id);
	});

	test("a bad id_token is refused", async () => {
		const browser = new Browser(ORIGIN);
		const email = newEmail("badidtoken");
		for (const params of [{ email, aud: "someone-else" }, { email, age: "7200" }, { email, foreign: "1" }]) {
			const token = await mint(params);
			failed(await browser.client.signIn.social({ provider: "fake", idToken: { token } }), 401, "INVALID_TOKEN");
		}
		const token = await mint({ email, nonce: "n-1" });
		failed(await browser.client.signIn.social({ provider: "fake", idToken: { token, nonce: "n-2" } }), 401, "INVALID_TOKEN");
		failed(await browser.client.signIn.social({ provider: "plain", idToken: { token } }), 404, "ID_TOKEN_NOT_SUPPORTED");
		assert.equal(ok(await browser.client.getSession(), "get-session"), null);
	});

	test("an id_token for an existing unverified local user is not linked", async () => {
		const email = newEmail("idlocal");
		await signUp(email);
		const token = await mint({ email });
		failed(await new Browser(ORIGIN).client.signIn.social({ provider: "fake", idToken: { token } }), 401, "OAUTH_LINK_ERROR");
	});

	test("linkSocial with an id_token links at once", async () => {
		const email = newEmail("idlink");
		const browser = await signUp(email);
		const token = await mint({ email });
		const data = ok(await browser.client.linkSocial({ provider: "fake", idToken: { token } }), "link-social");
		assert.deepEqual(data, { url: "", status: true, redirect: false });
		const accounts = ok(await browser.client.listAccounts(), "list-accounts");
		assert.deepEqual(accounts.map((a) => a.providerId).sort(), ["credential", "fake"]);
		// Linking the same provider account to another user conflicts.
		const other = await signUp(newEmail("idlinkother"));
		failed(await other.client.linkSocial({ provider: "fake", idToken: { token } }), 409, "SOCIAL_ACCOUNT_ALREADY_LINKED");
		// Another email is refused.
		const foreign = await mint({ email: newEmail("idlinkforeign") });
		failed(await other.client.linkSocial({ provider: "fake", idToken: { token: foreign } }), 401, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED");
	});
});

describe("provider tokens of a credential account", () => {
	test("the credential account has no provider to ask", async () => {
		const browser = await signUp(newEmail("credonly"));
		const [cred] = ok(await browser.client.listAccounts(), "list-accounts");
		assert.equal(cred.providerId, "credential");
		failed(await browser.client.getAccessToken({ accountId: cred.id }), 400, "PROVIDER_NOT_SUPPORTED");
		failed(await browser.client.refreshToken({ accountId: cred.id }), 400, "PROVIDER_NOT_SUPPORTED");
		failed(await browser.client.accountInfo({ query: { accountId: cred.id } }), 400, "PROVIDER_NOT_CONFIGURED");
		failed(await browser.client.accountInfo({ query: {} }), 400, "VALIDATION_ERROR");
	});
});
