// Mail files shared by both servers under test: authd's SMTP sink
// (adapters/mail/smtptest, WithDir) and the reference better-auth server's
// hooks write one JSON file per message into MAIL_DIR:
//   <name>.json = {"from", "to": [envelope recipients], "subject", "text", "raw"}
// created atomically (write <name>.json.tmp, then rename), so the suite reads
// mails from either server the same way.
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const FROM = "better-auth <no-reply@localhost>";
let seq = 0;

export async function writeMail(dir, { to, subject, text }) {
	await mkdir(dir, { recursive: true });
	const raw = [`From: ${FROM}`, `To: <${to}>`, `Subject: ${subject}`, "Content-Type: text/plain; charset=utf-8", "", text].join("\n");
	const name = join(dir, `${Date.now()}-${process.pid}-${++seq}.json`);
	await writeFile(`${name}.tmp`, JSON.stringify({ from: FROM, to: [to], subject, text, raw }));
	await rename(`${name}.tmp`, name);
}

/** The first http(s) URL standing alone on a line of the mail text. */
export function urlLine(text) {
	for (const line of (text ?? "").split(/\r?\n/)) {
		const t = line.trim();
		if (/^https?:\/\/\S+$/.test(t)) return t;
	}
	return undefined;
}

/**
 * A view of MAIL_DIR. `expect(address, action)` runs action and returns the
 * first mail to address that appeared after action started (ignoring every
 * file present before), so concurrent or earlier mails never get mixed up.
 */
export class Mailbox {
	constructor(dir, { timeoutMs = 10_000 } = {}) {
		if (!dir) throw new Error("MAIL_DIR is not set");
		this.dir = dir;
		this.timeoutMs = timeoutMs;
	}

	async #names() {
		try {
			return (await readdir(this.dir)).filter((n) => n.endsWith(".json"));
		} catch (e) {
			if (e.code === "ENOENT") return [];
			throw e;
		}
	}

	async expect(address, action) {
		const before = await this.snapshot();
		const result = await action();
		const mail = await this.waitFor(address, before);
		return { result, mail };
	}

	/** The names of the mail files present now, to pass to mailsTo. */
	async snapshot() {
		return new Set(await this.#names());
	}

	/** Mails to address that are not in `before` (a snapshot), without waiting. */
	async mailsTo(address, before) {
		const want = address.toLowerCase();
		const out = [];
		for (const name of (await this.#names()).sort()) {
			if (before.has(name)) continue;
			const mail = JSON.parse(await readFile(join(this.dir, name), "utf8"));
			if (mail.to.some((to) => to.toLowerCase() === want)) out.push({ ...mail, file: name, url: urlLine(mail.text) });
		}
		return out;
	}

	async waitFor(address, before) {
		const deadline = Date.now() + this.timeoutMs;
		for (;;) {
			const mails = await this.mailsTo(address, before);
			if (mails.length > 1) throw new Error(`expected one mail to ${address}, got ${mails.length}`);
			if (mails.length === 1) {
				if (!mails[0].url) throw new Error(`mail to ${address} has no line holding just a URL:\n${mails[0].text}`);
				return mails[0];
			}
			if (Date.now() > deadline) throw new Error(`no mail to ${address} within ${this.timeoutMs} ms`);
			await sleep(50);
		}
	}
}
