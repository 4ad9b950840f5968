// Verifies the tokens the Rust bench wrote (target/bench/tokens.json) with the usual Node.js
// libraries of Lambda authorizers and prints nanoseconds per verification as JSON: for each
// library and token, one figure per round (ROUNDS rounds, the four measurements interleaved in
// each, so the figures have a median and a range as the Rust ones do).
import { readFileSync } from "node:fs";
import { createPublicKey } from "node:crypto";
import jwt from "jsonwebtoken";
import * as jose from "jose";

const doc = JSON.parse(readFileSync(process.argv[2], "utf8"));
const clockTimestamp = doc.now;

const ROUNDS = 5;

function timeSync(fn, minMillis = 300) {
  for (let i = 0; i < 2000; i++) fn(); // warm up the JIT
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < BigInt(minMillis) * 1_000_000n) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / n;
}

async function timeAsync(fn, minMillis = 300) {
  for (let i = 0; i < 2000; i++) await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < BigInt(minMillis) * 1_000_000n) {
    for (let i = 0; i < 100; i++) await fn();
    n += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / n;
}

const measurements = [];
for (const [name, alg] of [["es256", "ES256"], ["rs256", "RS256"]]) {
  const { token, public_key_pem } = doc[name];
  const key = createPublicKey(public_key_pem);
  const opts = { algorithms: [alg], issuer: "https://auth.bench", audience: "api", clockTimestamp };
  jwt.verify(token, key, opts); // throws if the token does not verify
  measurements.push([`jsonwebtoken_${name}_ns`, () => timeSync(() => jwt.verify(token, key, opts))]);
  const joseKey = await jose.importSPKI(public_key_pem, alg);
  const joseOpts = { algorithms: [alg], issuer: "https://auth.bench", audience: "api", typ: "at+jwt", currentDate: new Date(clockTimestamp * 1000) };
  await jose.jwtVerify(token, joseKey, joseOpts);
  measurements.push([`jose_${name}_ns`, () => timeAsync(() => jose.jwtVerify(token, joseKey, joseOpts))]);
}
const out = Object.fromEntries(measurements.map(([k]) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [k, measure] of measurements) out[k].push(await measure());
}
console.log(JSON.stringify(out));
