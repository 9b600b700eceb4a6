// Re-signs requests byoc sent with AWS's own JavaScript SigV4 signer
// (@smithy/signature-v4, what the AWS SDK for JavaScript v3 signs with) and
// checks that each Authorization header is exactly the one byoc computed.
//
//   node verify.mjs REQUESTS.json
//
// REQUESTS.json: {"requests": [{"method", "target" (raw, as on the request
// line), "headers" {lowercase name: value}, "body", "region", "service",
// "credentials" {"accessKeyId", "secretAccessKey", "sessionToken"?},
// "presigned"?}]}. A presigned request carries its signature in the query
// (X-Amz-Signature) rather than in an Authorization header.
// Prints "verified N of N" and exits 0 when every one matches; otherwise
// names each mismatch and exits 1.
import { readFileSync } from "node:fs";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/hash-node";

const Sha256 = Hash.bind(null, "sha256");

function parseAuthorization(value) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(value ?? "");
  if (!m) throw new Error(`not a SigV4 Authorization header: ${value}`);
  return { credential: m[1], signedHeaders: m[2].split(";"), signature: m[3] };
}

function signingDate(amzDate) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate ?? "");
  if (!m) throw new Error(`bad x-amz-date: ${amzDate}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

function splitTarget(target) {
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const query = {};
  if (q >= 0) {
    for (const pair of target.slice(q + 1).split("&")) {
      if (!pair) continue;
      const eq = pair.indexOf("=");
      const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
      if (key in query) query[key] = [].concat(query[key], value);
      else query[key] = value;
    }
  }
  return { path, query };
}

async function checkPresigned(r) {
  const { path, query } = splitTarget(r.target);
  const ours = query["X-Amz-Signature"];
  const signedHeaders = (query["X-Amz-SignedHeaders"] ?? "").split(";");
  const date = query["X-Amz-Date"], expires = +query["X-Amz-Expires"];
  for (const name of Object.keys(query)) if (name.startsWith("X-Amz-")) delete query[name];
  const headers = {};
  for (const name of signedHeaders) {
    if (!(name in r.headers)) throw new Error(`signed header ${name} was not given`);
    headers[name] = r.headers[name];
  }
  const [hostname, port] = r.headers.host.split(":");
  const signer = new SignatureV4({
    credentials: r.credentials, region: r.region, service: r.service, sha256: Sha256, uriEscapePath: true,
  });
  const signed = await signer.presign(
    { method: r.method, protocol: "https:", hostname, port: port ? +port : undefined, path, query, headers },
    { signingDate: signingDate(date), expiresIn: expires });
  const theirs = signed.query["X-Amz-Signature"];
  return { ok: theirs === ours, ours, theirs };
}

async function check(r) {
  if (r.presigned) return checkPresigned(r);
  const sent = parseAuthorization(r.headers.authorization);
  const headers = {};
  for (const name of sent.signedHeaders) {
    if (!(name in r.headers)) throw new Error(`signed header ${name} was not sent`);
    headers[name] = r.headers[name];
  }
  const { path, query } = splitTarget(r.target);
  const [hostname, port] = r.headers.host.split(":");
  const signer = new SignatureV4({
    credentials: r.credentials,
    region: r.region,
    service: r.service,
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath: true,
  });
  const signed = await signer.sign(
    { method: r.method, protocol: "https:", hostname, port: port ? +port : undefined, path, query, headers, body: r.body },
    { signingDate: signingDate(r.headers["x-amz-date"]) });
  const theirs = signed.headers.authorization ?? signed.headers.Authorization;
  return { ok: theirs === r.headers.authorization, ours: r.headers.authorization, theirs };
}

const { requests } = JSON.parse(readFileSync(process.argv[2], "utf8"));
let verified = 0;
for (const [i, r] of requests.entries()) {
  try {
    const { ok, ours, theirs } = await check(r);
    if (ok) verified++;
    else console.log(`request ${i} (${r.method} ${r.target}): byoc signed\n  ${ours}\nbut the AWS SDK signs\n  ${theirs}`);
  } catch (e) {
    console.log(`request ${i} (${r.method} ${r.target}): ${e.message}`);
  }
}
console.log(`verified ${verified} of ${requests.length}`);
process.exit(verified === requests.length && requests.length > 0 ? 0 : 1);
