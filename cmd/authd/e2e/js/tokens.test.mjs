// better-auth's jwt and bearer plugins through the real JS client with
// jwtClient. The suite must pass against both the reference better-auth
// server and authd, each started with AUTH_JWT_ENABLED and AUTH_BEARER_ENABLED.
// Env: AUTHD_URL (server origin), JWT_ISSUER and JWT_AUDIENCE (expected claims).
import assert from "node:assert/strict";
import { createPublicKey, randomBytes, verify } from "node:crypto";
import { describe, test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";

const ORIGIN = new URL(process.env.AUTHD_URL ?? assert.fail("AUTHD_URL is not set")).origin;
const ISSUER = process.env.JWT_ISSUER ?? assert.fail("JWT_ISSUER is not set");
const AUDIENCE = process.env.JWT_AUDIENCE ?? assert.fail("JWT_AUDIENCE is not set");
const PASSWORD = "correct horse battery";

// A cookie-less client, as a single-page app on the server's origin holds
// one: it keeps the bearer token from set-auth-token and sends it as
// Authorization. (Node's fetch sends Sec-Fetch-Mode, so sign-up's CSRF
// check wants an Origin, as it would from a browser.)
function appClient() {
	const state = { token: undefined, headers: [] };
	const client = createAuthClient({
		baseURL: ORIGIN,
		plugins: [jwtClient()],
		fetchOptions: {
			headers: { origin: ORIGIN },
			auth: { type: "Bearer", token: () => state.token },
			onSuccess: (ctx) => {
				state.headers.push(ctx.response.headers);
				const t = ctx.response.headers.get("set-auth-token");
				if (t) state.token = t;
			},
		},
	});
	return { client, state };
}

function ok(res, what) {
	assert.equal(res.error, null, `${what}: ${JSON.stringify(res.error)}`);
	return res.data;
}

async function signedUp() {
	const app = appClient();
	const email = `tokens-${randomBytes(6).toString("hex")}@example.com`;
	const data = ok(await app.client.signUp.email({ name: "Jay", email, password: PASSWORD }), "sign-up");
	return { ...app, email, user: data.user, rawToken: data.token };
}

const segment = (s) => JSON.parse(Buffer.from(s, "base64url").toString());

/** Verifies jwt's EdDSA signature against the server's /jwks with Node's own crypto and checks its claims. */
async function verifyJWT(client, jwt) {
	const { keys } = ok(await client.jwks(), "jwks");
	const [h, p, sig] = jwt.split(".");
	const header = segment(h);
	const jwk = keys.find((k) => k.kid === header.kid);
	assert.ok(jwk, `kid ${header.kid} is not in /jwks`);
	const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
	assert.ok(verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(sig, "base64url")), "signature does not verify");
	const payload = segment(p);
	assert.equal(payload.iss, ISSUER);
	assert.equal(payload.aud, AUDIENCE);
	assert.ok(payload.exp > Date.now() / 1000, "expired");
	return { header, payload };
}

describe("bearer", () => {
	test("sign-up hands out set-auth-token, which authenticates without cookies", async () => {
		const { client, state, email, rawToken } = await signedUp();
		assert.match(state.token, /^[A-Za-z0-9]{32}\.[A-Za-z0-9+/]{43}=$/);
		assert.equal(state.token.split(".")[0], rawToken);
		const h = state.headers.at(-1);
		assert.match(h.get("access-control-expose-headers") ?? "", /set-auth-token/);
		assert.equal(h.get("set-cookie")?.includes("better-auth.session_token="), true);
		const s = ok(await client.getSession(), "get-session");
		assert.equal(s.user.email, email);
	});

	test("a raw session token works as bearer; a JWT does not", async () => {
		const { client, state, email, rawToken } = await signedUp();
		const { token: jwt } = ok(await client.$fetch("/token"), "token");
		state.token = rawToken;
		assert.equal(ok(await client.getSession(), "get-session").user.email, email);
		state.token = jwt;
		assert.equal(ok(await client.getSession(), "get-session with a JWT"), null);
		state.token = rawToken.slice(0, -1) + (rawToken.endsWith("a") ? "b" : "a");
		assert.equal(ok(await client.getSession(), "get-session with a changed token"), null);
	});

	test("sign-out with a bearer ends the session", async () => {
		const { client } = await signedUp();
		assert.deepEqual(ok(await client.signOut(), "sign-out"), { success: true });
		assert.equal(ok(await client.getSession(), "get-session"), null);
	});

	test("session routes take the bearer: update-user, list-sessions", async () => {
		const { client } = await signedUp();
		ok(await client.updateUser({ name: "Renamed" }), "update-user");
		assert.equal(ok(await client.getSession(), "get-session").user.name, "Renamed");
		assert.equal(ok(await client.listSessions(), "list-sessions").length, 1);
	});
});

describe("jwt", () => {
	test("get-session carries set-auth-jwt, exposed, verifiable with /jwks", async () => {
		const { client, state, user } = await signedUp();
		ok(await client.getSession(), "get-session");
		const h = state.headers.at(-1);
		const jwt = h.get("set-auth-jwt");
		assert.ok(jwt, "no set-auth-jwt");
		assert.match(h.get("access-control-expose-headers"), /set-auth-jwt/);
		const { header, payload } = await verifyJWT(client, jwt);
		assert.deepEqual(Object.keys(header), ["alg", "kid"]);
		assert.equal(header.alg, "EdDSA");
		assert.equal(payload.sub, user.id);
		assert.equal(payload.email, user.email);
		assert.equal(typeof payload.aud, "string");
		assert.equal(payload.exp - payload.iat, 900);
	});

	test("/token answers {token} for the session's user, and 401 without one", async () => {
		const { client, user, state } = await signedUp();
		const data = ok(await client.$fetch("/token"), "token");
		assert.deepEqual(Object.keys(data), ["token"]);
		assert.equal(state.headers.at(-1).get("set-auth-jwt"), null);
		const { payload } = await verifyJWT(client, data.token);
		for (const k of ["id", "name", "email", "emailVerified", "image"]) assert.deepEqual(payload[k], user[k], k);
		// The claims are get-session's user (with the twoFactor plugin on,
		// twoFactorEnabled too).
		const sessionUser = ok(await client.getSession(), "get-session").user;
		assert.equal(payload.twoFactorEnabled, sessionUser.twoFactorEnabled);
		assert.equal(payload.createdAt, new Date(user.createdAt).toISOString());

		const anon = appClient();
		const res = await anon.client.$fetch("/token");
		assert.equal(res.error?.status, 401);
		assert.equal(res.error?.code, "UNAUTHORIZED");
	});

	test("/jwks lists Ed25519 public keys only", async () => {
		const { client } = await signedUp();
		const { keys } = ok(await client.jwks(), "jwks");
		assert.ok(keys.length >= 1);
		for (const k of keys) {
			assert.deepEqual(Object.keys(k), ["alg", "crv", "x", "kty", "kid"]);
			assert.equal(k.alg, "EdDSA");
			assert.equal(k.crv, "Ed25519");
			assert.match(k.kid, /^[A-Za-z0-9]{32}$/);
		}
	});
});
