// Serves the real better-auth on Node's http server so client.test.mjs can be
// checked against the implementation authd copies.
// Env: HTTP_ADDR (host:port), APP_SECRET, MAIL_DIR, PG* (libpq variables), TZ=UTC.
import { createServer } from "node:http";
import { toNodeHandler } from "better-auth/node";
import { createReferenceAuth, poolFromEnv, redisFromEnv } from "./reference-auth.mjs";

const addr = process.env.HTTP_ADDR;
const [host, port] = addr?.split(":") ?? [];
if (!host || !port) throw new Error("HTTP_ADDR must be host:port");

const pool = poolFromEnv();
const redis = redisFromEnv();
const auth = createReferenceAuth({
	redis,
	// PUBLIC_URL: the origin browsers use when a proxy fronts the server.
	baseURL: process.env.PUBLIC_URL ?? `http://${addr}`,
	mailDir: process.env.MAIL_DIR,
	pool,
	secret: process.env.APP_SECRET,
});
const handler = toNodeHandler(auth);

const server = createServer((req, res) => {
	if (req.url.startsWith("/api/auth/") || req.url === "/api/auth") return handler(req, res);
	res.writeHead(404).end();
});

server.listen(Number(port), host, () => console.log(`reference better-auth listening on http://${addr}`));

const stop = () => {
	server.close(() => Promise.all([pool.end(), redis?.quit()]).then(() => process.exit(0)));
	server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
