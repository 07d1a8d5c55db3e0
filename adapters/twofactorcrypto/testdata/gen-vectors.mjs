// Regenerates vectors.json from the real better-auth package (run from the
// repository root after npm ci in cmd/authd/e2e/js):
//   node adapters/twofactorcrypto/testdata/gen-vectors.mjs > adapters/twofactorcrypto/testdata/vectors.json
import { createOTP } from "../../../cmd/authd/e2e/js/node_modules/@better-auth/utils/dist/otp.mjs";
import { createHMAC } from "../../../cmd/authd/e2e/js/node_modules/@better-auth/utils/dist/hmac.mjs";

const secret = "a-better-auth-secret-of-32-chars-or-more";
const totpSecret = "Abcdefghijklmnopqrstuvwxyz012-_9";
const otp = createOTP(totpSecret, { digits: 6, period: 30 });
const codes = [];
for (const counter of [0, 1, 59, 56666666, 2 ** 31]) codes.push({ counter, code: await otp.hotp(counter) });
console.log(JSON.stringify({
	totpSecret,
	codes,
	uri: otp.url("My App & Co", "ann+x@example.com"),
	trust: {
		secret, userId: "user-1", identifier: "trust-device-abc",
		mac: await createHMAC("SHA-256", "base64urlnopad").sign(secret, "user-1!trust-device-abc"),
	},
}, null, 2));
