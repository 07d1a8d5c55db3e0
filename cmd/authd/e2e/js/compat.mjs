// Server-side better-auth calls on a database authd also uses, for the Go data
// compatibility test. One command per run; the result is one JSON line on stdout.
//   sign-up <email> <password> <name>   -> {token, user, cookie}
//   sign-in <email> <password>          -> {token, user, cookie}  (or {error:{status, code}})
//   get-session <cookie header>         -> {session, user} | null
//   hash <password>                     -> {hash}
//   verify <hash> <password>            -> {ok}
// Env: AUTHD_URL (public origin), APP_SECRET, PG*, TZ=UTC; COOKIE_CACHE_MAX_AGE
// (seconds) turns on the session cookie cache.
import { hashPassword, verifyPassword } from "better-auth/crypto";
import { createReferenceAuth, poolFromEnv } from "./reference-auth.mjs";

const [command, ...args] = process.argv.slice(2);

function cookieHeader(headers) {
	return headers
		.getSetCookie()
		.map((c) => c.split(";")[0])
		.filter((c) => !c.endsWith("="))
		.join("; ");
}

async function withAuth(fn) {
	const pool = poolFromEnv();
	try {
		const auth = createReferenceAuth({
			baseURL: new URL(process.env.AUTHD_URL).origin,
			mailDir: process.env.MAIL_DIR,
			pool,
			secret: process.env.APP_SECRET,
		});
		return await fn(auth);
	} finally {
		await pool.end();
	}
}

async function signedCall(call) {
	try {
		const { headers, response } = await call();
		return { ...response, cookie: cookieHeader(headers) };
	} catch (e) {
		if (e?.statusCode === undefined) throw e;
		return { error: { status: e.statusCode, code: e.body?.code, message: e.body?.message } };
	}
}

const commands = {
	"sign-up": ([email, password, name]) =>
		withAuth((auth) => signedCall(() => auth.api.signUpEmail({ body: { email, password, name }, returnHeaders: true }))),
	"sign-in": ([email, password]) =>
		withAuth((auth) => signedCall(() => auth.api.signInEmail({ body: { email, password }, returnHeaders: true }))),
	"get-session": ([cookie]) => withAuth((auth) => auth.api.getSession({ headers: new Headers({ cookie }) })),
	hash: async ([password]) => ({ hash: await hashPassword(password) }),
	verify: async ([hash, password]) => ({ ok: await verifyPassword({ hash, password }) }),
};

const run = commands[command];
if (!run) {
	console.error(`unknown command ${command}; want one of ${Object.keys(commands).join(", ")}`);
	process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run(args))}\n`);
