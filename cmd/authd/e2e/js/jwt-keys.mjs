// Key-format check of better-auth's jwt plugin against authd's, in both
// directions, with the real package on its memory adapter (no server):
//   1. on an empty table better-auth makes a key and signs a /token JWT;
//   2. seeded with a jwks row that authd made (JWT_KEYS_ROW), better-auth
//      signs with it, which it can only do if it decrypts authd's private key.
// Input: JWT_KEYS_SECRET, JWT_KEYS_ROW (JSON of {id, publicKey, privateKey,
// alg, crv}); output: JSON written to JWT_KEYS_OUT.
import { writeFileSync } from "node:fs";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { jwt } from "better-auth/plugins";

const secret = process.env.JWT_KEYS_SECRET;
const baseURL = "http://localhost:3000";

async function run(seed) {
	const db = { user: [], session: [], account: [], verification: [], jwks: seed ? [seed] : [] };
	const auth = betterAuth({
		baseURL, secret, database: memoryAdapter(db), telemetry: { enabled: false },
		emailAndPassword: { enabled: true }, plugins: [jwt()],
	});
	const res = await auth.api.signUpEmail({
		body: { email: `jwt-${Math.random().toString(36).slice(2)}@example.com`, password: "password-123", name: "Jay" },
		asResponse: true,
	});
	const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
	const { token } = await auth.api.getToken({ headers: new Headers({ cookie }) });
	const jwks = await auth.api.getJwks();
	return { token, jwks, rows: db.jwks, user: db.user[0] };
}

const fresh = await run(null);
const row = JSON.parse(process.env.JWT_KEYS_ROW);
const seeded = await run({ ...row, createdAt: new Date() });
writeFileSync(process.env.JWT_KEYS_OUT, JSON.stringify({ fresh, seeded }, null, 1));
