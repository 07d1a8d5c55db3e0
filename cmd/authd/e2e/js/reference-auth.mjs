// The real better-auth (the pinned 1.7.x; the wire spec describes 1.7.25), configured the way authd behaves by default and
// mapped onto authd's Postgres schema (snake_case columns, singular tables).
import { betterAuth } from "better-auth";
import { bearer, genericOAuth, jwt, twoFactor } from "better-auth/plugins";
import pg from "pg";
import { Redis } from "ioredis";
import { redisStorage } from "@better-auth/redis-storage";
import { writeMail } from "./mail.mjs";

// pg reads and writes `timestamp without time zone` in the process's local
// zone; authd stores UTC there, so the reference must run in UTC too.
// Importers set TZ before anything creates a Date (see assertUTC).
export function assertUTC() {
	if (new Date(0).getTimezoneOffset() !== 0) {
		throw new Error("run with TZ=UTC: pg maps `timestamp` columns through the local time zone");
	}
}

/** A pool from the libpq-style PG* environment variables the Go harness sets. */
export function poolFromEnv() {
	return new pg.Pool({ max: 5 });
}

// Social sign-in from authd's variables (AUTH_OAUTH_*, AUTH_ACCOUNT_LINKING_*,
// AUTH_ENCRYPT_OAUTH_TOKENS), mapped onto genericOAuth and account options.
const envList = (v) => (v ?? "").split(/[\s,]+/).filter(Boolean);
const envBool = (v, dflt) => (v === undefined || v === "" ? dflt : v === "true" || v === "1");

export function socialFromEnv(env = process.env) {
	const config = envList(env.AUTH_OAUTH_PROVIDERS).map((providerId) => {
		const p = `AUTH_OAUTH_${providerId.toUpperCase().replaceAll("-", "_")}_`;
		const c = {
			providerId,
			clientId: env[`${p}CLIENT_ID`],
			clientSecret: env[`${p}CLIENT_SECRET`],
			pkce: envBool(env[`${p}PKCE`], true),
			disableSignUp: envBool(env[`${p}DISABLE_SIGN_UP`], false),
			disableImplicitSignUp: envBool(env[`${p}DISABLE_IMPLICIT_SIGN_UP`], false),
		};
		if (env[`${p}DISCOVERY_URL`]) c.discoveryUrl = env[`${p}DISCOVERY_URL`];
		if (env[`${p}AUTHORIZATION_URL`]) c.authorizationUrl = env[`${p}AUTHORIZATION_URL`];
		if (env[`${p}TOKEN_URL`]) c.tokenUrl = env[`${p}TOKEN_URL`];
		if (env[`${p}USER_INFO_URL`]) c.userInfoUrl = env[`${p}USER_INFO_URL`];
		if (env[`${p}SCOPES`]) c.scopes = envList(env[`${p}SCOPES`]);
		return c;
	});
	return {
		plugins: config.length ? [genericOAuth({ config })] : [],
		account: {
			encryptOAuthTokens: envBool(env.AUTH_ENCRYPT_OAUTH_TOKENS, false),
			accountLinking: {
				enabled: envBool(env.AUTH_ACCOUNT_LINKING_ENABLED, true),
				trustedProviders: envList(env.AUTH_ACCOUNT_LINKING_TRUSTED_PROVIDERS),
				allowDifferentEmails: envBool(env.AUTH_ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS, false),
				allowUnlinkingAll: envBool(env.AUTH_ACCOUNT_LINKING_ALLOW_UNLINKING_ALL, false),
				updateUserInfoOnLink: envBool(env.AUTH_ACCOUNT_LINKING_UPDATE_USER_INFO_ON_LINK, false),
			},
		},
	};
}

const link = (title, url) => `${title}\n\n${url}\n`;

const enabled = (v) => v === "true" || v === "1";

/** better-auth's "<n>s|m|h" as seconds (AUTH_JWKS_* use Go's spelling of it). */
function seconds(v) {
	const m = /^(\d+)(s|m|h)$/.exec(v ?? "");
	if (!m) throw new Error(`unsupported duration ${v}`);
	return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2]];
}

/**
 * The jwt and bearer plugins, configured from authd's own variables
 * (AUTH_JWT_ENABLED, AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE, AUTH_JWT_EXPIRATION,
 * AUTH_JWKS_ROTATION_INTERVAL, AUTH_JWKS_GRACE_PERIOD, AUTH_BEARER_ENABLED),
 * in better-auth's order: jwt, then bearer.
 */
export function pluginsFromEnv(env = process.env) {
	const plugins = [];
	if (enabled(env.AUTH_JWT_ENABLED)) {
		plugins.push(
			jwt({
				jwt: {
					...(env.AUTH_JWT_ISSUER ? { issuer: env.AUTH_JWT_ISSUER } : {}),
					...(env.AUTH_JWT_AUDIENCE ? { audience: env.AUTH_JWT_AUDIENCE } : {}),
					...(env.AUTH_JWT_EXPIRATION ? { expirationTime: env.AUTH_JWT_EXPIRATION } : {}),
				},
				jwks: {
					...(env.AUTH_JWKS_ROTATION_INTERVAL && seconds(env.AUTH_JWKS_ROTATION_INTERVAL) > 0
						? { rotationInterval: seconds(env.AUTH_JWKS_ROTATION_INTERVAL) }
						: {}),
					...(env.AUTH_JWKS_GRACE_PERIOD ? { gracePeriod: seconds(env.AUTH_JWKS_GRACE_PERIOD) } : {}),
				},
				schema: {
					jwks: {
						modelName: "jwks",
						fields: { publicKey: "public_key", privateKey: "private_key", createdAt: "created_at", expiresAt: "expires_at" },
					},
				},
			}),
		);
	}
	if (enabled(env.AUTH_BEARER_ENABLED)) plugins.push(bearer());
	return plugins;
}

// authd's AUTH_TWO_FACTOR_ENABLED / AUTH_TWO_FACTOR_ISSUER: the twoFactor
// plugin on authd's schema, mailing one-time codes alone on a line as authd
// does.
function twoFactorPlugins(send) {
	if (process.env.AUTH_TWO_FACTOR_ENABLED !== "true") return [];
	const issuer = process.env.AUTH_TWO_FACTOR_ISSUER || undefined;
	return [
		twoFactor({
			issuer,
			totpOptions: { issuer },
			otpOptions: {
				sendOTP: ({ user, otp }) => send(user.email, "Your verification code", `Your verification code:\n\n${otp}\n\nIt expires in 3 minutes.\n`),
			},
			schema: {
				user: { fields: { twoFactorEnabled: "two_factor_enabled" } },
				twoFactor: {
					modelName: "two_factor",
					fields: {
						backupCodes: "backup_codes",
						userId: "user_id",
						failedVerificationCount: "failed_verification_count",
						lockedUntil: "locked_until",
					},
				},
			},
		}),
	];
}

/**
 * authd's AUTH_SECONDARY_STORAGE=redis with REDIS_URL, as better-auth's
 * secondaryStorage through @better-auth/redis-storage; null otherwise.
 */
export function redisFromEnv() {
	if (process.env.AUTH_SECONDARY_STORAGE !== "redis") return null;
	return new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
}

export function createReferenceAuth({ baseURL, mailDir, pool, secret, redis = null }) {
	assertUTC();
	const send = (to, subject, text) => writeMail(mailDir, { to, subject, text });
	const social = socialFromEnv();
	return betterAuth({
		baseURL,
		secret,
		database: pool,
		// authd keeps sessions in Postgres too unless
		// AUTH_STORE_SESSION_IN_DATABASE=false (better-auth's default is false).
		...(redis ? { secondaryStorage: redisStorage({ client: redis }) } : {}),
		// On only where the Go harness asks (the Redis suite's shared limits);
		// with secondaryStorage better-auth counts there.
		rateLimit: {
			enabled: process.env.AUTH_RATE_LIMIT_ENABLED === "true",
			...(process.env.AUTH_RATE_LIMIT_WINDOW ? { window: seconds(process.env.AUTH_RATE_LIMIT_WINDOW) } : {}),
			...(process.env.AUTH_RATE_LIMIT_MAX ? { max: Number(process.env.AUTH_RATE_LIMIT_MAX) } : {}),
		},
		telemetry: { enabled: false },
		plugins: [...twoFactorPlugins(send), ...pluginsFromEnv(), ...social.plugins],
		emailAndPassword: {
			enabled: true,
			revokeSessionsOnPasswordReset: true,
			sendResetPassword: ({ user, url }) => send(user.email, "Reset your password", link("Reset your password:", url)),
		},
		emailVerification: {
			sendVerificationEmail: ({ user, url }) => send(user.email, "Verify your email", link("Verify your email:", url)),
		},
		user: {
			modelName: "user",
			fields: { emailVerified: "email_verified", createdAt: "created_at", updatedAt: "updated_at" },
			changeEmail: {
				enabled: true,
				sendChangeEmailConfirmation: ({ user, newEmail, url }) =>
					send(user.email, "Approve your email change", link(`Approve the change to ${newEmail}:`, url)),
			},
			deleteUser: {
				enabled: true,
				// authd's AUTH_DELETE_USER_CONFIRM_BY_EMAIL=false is
				// better-auth without this hook: delete at once.
				...(process.env.AUTH_DELETE_USER_CONFIRM_BY_EMAIL === "false"
					? {}
					: {
							sendDeleteAccountVerification: ({ user, url }) =>
								send(user.email, "Confirm account deletion", link("Confirm the deletion of your account:", url)),
						}),
			},
		},
		session: {
			...(redis ? { storeSessionInDatabase: process.env.AUTH_STORE_SESSION_IN_DATABASE !== "false" } : {}),
			// The Go harness sets COOKIE_CACHE_MAX_AGE (seconds) to test the
			// session_data cookie cache; off otherwise, as in authd.
			...(process.env.COOKIE_CACHE_MAX_AGE
				? { cookieCache: { enabled: true, maxAge: Number(process.env.COOKIE_CACHE_MAX_AGE) } }
				: {}),
			modelName: "session",
			fields: {
				expiresAt: "expires_at",
				ipAddress: "ip_address",
				userAgent: "user_agent",
				userId: "user_id",
				createdAt: "created_at",
				updatedAt: "updated_at",
			},
		},
		account: {
			...social.account,
			modelName: "account",
			fields: {
				accountId: "account_id",
				providerId: "provider_id",
				userId: "user_id",
				accessToken: "access_token",
				refreshToken: "refresh_token",
				idToken: "id_token",
				accessTokenExpiresAt: "access_token_expires_at",
				refreshTokenExpiresAt: "refresh_token_expires_at",
				createdAt: "created_at",
				updatedAt: "updated_at",
			},
		},
		verification: {
			modelName: "verification",
			fields: { expiresAt: "expires_at", createdAt: "created_at", updatedAt: "updated_at" },
		},
	});
}
