// A minimal stand-in for a browser tab: Node's fetch has no cookie store and
// sends no Origin, so this keeps a per-"browser" cookie jar and adds the
// Origin header a same-origin page would send on unsafe requests.
import { createAuthClient } from "better-auth/client";

export class CookieJar {
	#cookies = new Map();

	/** Applies every Set-Cookie of a response (Max-Age=0 or a past Expires deletes). */
	store(headers) {
		for (const line of headers.getSetCookie()) {
			const [pair, ...attrs] = line.split(";");
			const eq = pair.indexOf("=");
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			const attributes = {};
			for (const a of attrs) {
				const i = a.indexOf("=");
				const key = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
				attributes[key] = i < 0 ? true : a.slice(i + 1).trim();
			}
			const expired =
				attributes["max-age"] !== undefined
					? Number(attributes["max-age"]) <= 0
					: attributes.expires !== undefined && Date.parse(attributes.expires) <= Date.now();
			if (expired) this.#cookies.delete(name);
			else this.#cookies.set(name, { value, attributes, raw: line });
		}
	}

	header() {
		return [...this.#cookies].map(([n, c]) => `${n}=${c.value}`).join("; ");
	}

	get(name) {
		return this.#cookies.get(name);
	}

	names() {
		return [...this.#cookies.keys()];
	}
}

export class Browser {
	constructor(origin) {
		this.origin = origin;
		this.jar = new CookieJar();
		this.userAgent = `authd-e2e-${Math.random().toString(36).slice(2, 10)}`;
		this.fetch = this.fetch.bind(this);
		this.client = createAuthClient({
			baseURL: origin,
			fetchOptions: { customFetchImpl: this.fetch },
		});
	}

	async fetch(input, init = {}) {
		const headers = new Headers(init.headers);
		const method = (init.method ?? "GET").toUpperCase();
		const cookie = this.jar.header();
		if (cookie) headers.set("cookie", cookie);
		if (method !== "GET" && method !== "HEAD") headers.set("origin", this.origin);
		headers.set("user-agent", this.userAgent);
		const res = await fetch(input, { ...init, headers, redirect: "manual" });
		this.jar.store(res.headers);
		return res;
	}

	/** Follows a mailed link the way a click does: a top-level GET with cookies, no redirect following. */
	async open(url) {
		const res = await this.fetch(url, {
			headers: { "sec-fetch-site": "none", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" },
		});
		const body = await res.text();
		return { status: res.status, location: res.headers.get("location"), body };
	}

	sessionToken() {
		const c = this.jar.get("better-auth.session_token");
		return c ? decodeURIComponent(c.value).split(".")[0] : undefined;
	}
}
