// Regenerates vectors.json from the real better-auth package:
//   node adapters/internal/secretbox/testdata/gen-vectors.mjs > adapters/internal/secretbox/testdata/vectors.json
// (run from the repository root after npm ci in cmd/authd/e2e/js).
import { symmetricEncrypt } from "../../../../cmd/authd/e2e/js/node_modules/better-auth/dist/crypto/index.mjs";

const key = "a-better-auth-secret-of-32-chars-or-more";
const plains = ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", '["abcde-12345","ZZZZZ-00000"]', "", "ünïcødé 🔐"];
const out = [];
for (const plain of plains) out.push({ key, plain, sealed: await symmetricEncrypt({ key, data: plain }) });
console.log(JSON.stringify(out, null, 2));
