#!/usr/bin/env node
// OpenAPI conformance: starts a real `byoc server` (BYOC_BINARY) on a free
// loopback port with its own data dir and HOME, checks that it serves exactly
// docs/openapi.json, that the document is sound (every $ref resolves, every
// operation has responses, every schema compiles with ajv), and that the
// routes the source registers are the routes documented. Then it calls every
// route with good and bad requests — as admin, operator, customer, with no
// token, with bad bodies, unknown environments, Idempotency-Key repeats, an
// agent's client certificate — and checks each answer: its status is
// documented for that path and method, its body validates against that
// status's schema, and its headers match the documented ones. Request bodies
// that succeed must validate against the documented request schema, and bad
// bodies the schema can express must fail it.
//
// Exits 1 with a readable list on any violation, on a route never exercised,
// or on a documented (route, status) pair never reached that isn't listed in
// UNREACHABLE below with its reason.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

// ajv comes from tests/openapi/node_modules, installed by scripts/setup.sh.
let Ajv2020;
let addFormats;
try {
  Ajv2020 = (await import('ajv/dist/2020.js')).default;
  addFormats = (await import('ajv-formats')).default;
} catch (e) {
  console.error(`conformance: cannot load ajv (${e.code ?? e.message}); run scripts/setup.sh ` +
    '(npm ci --prefix tests/openapi) first');
  process.exit(2);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const docPath = path.join(repo, 'docs', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

// Documented statuses no test on one loopback machine can provoke on purpose.
const UNREACHABLE = {
  'GET /metrics 403': 'only non-loopback sources are refused; tests may only use loopback',
  'PATCH /v1/environments/{env} 409':
    'environment_deleting lasts only until the delete is reconciled: tried, but a race',
  'POST /v1/environments/{env}/join-tokens 409': 'environment_deleting: the same race',
  'PUT /v1/environments/{env}/maintenance 409': 'environment_deleting: the same race',
  'POST /v1/environments/{env}/access-requests 409':
    'support_access_off needs an agent reporting its policy.json (proven in access_requests_test); environment_deleting is the deletion race',
  'GET /v1/access-requests/{id}/certificate 200':
    'only an environment\'s agent issues support certificates, from its own CA (proven in agent_loop_fake_runtime_test: SupportAccessLoop)',
  'POST /v1/environments/{env}/verify 503':
    'checks_busy needs more checks in flight at once than a server allows, each against a slow cloud account; none is here',
  'POST /v1/environments/{env}/retry 202':
    'no cloud of this build fails on one loopback machine; retries of failed clouds are proven on the slow cloud (slow_cloud_test)',
};

const violations = [];
const notes = [];
function violation(message) {
  violations.push(message);
  console.log(`  VIOLATION: ${message}`);
}

// ---------------------------------------------------------------------------
// The document: structure, references, schemas.

const docText = fs.readFileSync(docPath, 'utf8');
const doc = JSON.parse(docText);

function pointer(ref) {
  if (!ref.startsWith('#/')) throw new Error(`external $ref not supported: ${ref}`);
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

function deref(node) {
  const seen = new Set();
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    if (seen.has(node.$ref)) throw new Error(`$ref cycle at ${node.$ref}`);
    seen.add(node.$ref);
    node = pointer(node.$ref);
  }
  return node;
}

const SCHEMA_BASE = 'https://byoc.invalid/schemas/';
const SCHEMA_REF = '#/components/schemas/';

// Component schemas become ajv schemas of their own; refs are rewritten to their ids.
function forAjv(schema) {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(SCHEMA_REF)) {
      out.$ref = SCHEMA_BASE + value.slice(SCHEMA_REF.length);
    } else {
      out[key] = forAjv(value);
    }
  }
  return out;
}

// Strict: an unknown keyword or a type mismatch in the document is an error.
// strictRequired is off: `required` inside `not`/`dependentSchemas` names
// properties declared by the enclosing schema.
const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
const compiled = new Map();
function validator(schema) {
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) compiled.set(key, ajv.compile(forAjv(schema)));
  return compiled.get(key);
}
function schemaErrors(schema, value) {
  const validate = validator(schema);
  if (validate(value)) return null;
  return ajv.errorsText(validate.errors, { dataVar: 'body' });
}

function checkDocument() {
  if (!/^3\.1\.\d+$/.test(doc.openapi ?? '')) violation(`document: openapi must be 3.1.x, is ${doc.openapi}`);
  if (!doc.info?.title || !doc.info?.version) violation('document: info.title and info.version are required');

  // Every $ref anywhere resolves.
  (function walk(node, where) {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${where}/${i}`));
    if (node === null || typeof node !== 'object') return;
    if (typeof node.$ref === 'string' && pointer(node.$ref) === undefined)
      violation(`document: ${where}: $ref ${node.$ref} does not resolve`);
    for (const [k, v] of Object.entries(node)) walk(v, `${where}/${k}`);
  })(doc, '#');

  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    try {
      ajv.addSchema(forAjv({ ...schema, $id: SCHEMA_BASE + name }));
    } catch (e) {
      violation(`document: schema ${name}: ${e.message}`);
    }
  }
  for (const name of Object.keys(doc.components?.schemas ?? {})) {
    try {
      validator({ $ref: SCHEMA_REF + name });
    } catch (e) {
      violation(`document: schema ${name} does not compile: ${e.message}`);
    }
  }

  const schemes = doc.components?.securitySchemes ?? {};
  const operationIds = new Set();
  for (const [p, item] of Object.entries(doc.paths ?? {})) {
    if (!p.startsWith('/')) violation(`document: path ${p} must start with /`);
    const templated = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
      const op = item[method];
      const where = `${method.toUpperCase()} ${p}`;
      if (!op.operationId) violation(`document: ${where} has no operationId`);
      else if (operationIds.has(op.operationId)) violation(`document: operationId ${op.operationId} used twice`);
      operationIds.add(op.operationId);
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(deref);
      const pathParams = params.filter((x) => x.in === 'path').map((x) => x.name);
      for (const name of templated)
        if (!pathParams.includes(name)) violation(`document: ${where}: path parameter {${name}} is not declared`);
      for (const x of params) {
        if (x.in === 'path' && !templated.includes(x.name)) violation(`document: ${where}: parameter ${x.name} is not in the path`);
        if (x.in === 'path' && x.required !== true) violation(`document: ${where}: path parameter ${x.name} must be required`);
        if (x.schema) try { validator(x.schema); } catch (e) { violation(`document: ${where}: parameter ${x.name}: ${e.message}`); }
      }
      for (const requirement of op.security ?? doc.security ?? [])
        for (const scheme of Object.keys(requirement))
          if (!schemes[scheme]) violation(`document: ${where}: unknown security scheme ${scheme}`);
      if (op.requestBody) {
        const rb = deref(op.requestBody);
        for (const [media, content] of Object.entries(rb.content ?? {}))
          try { validator(content.schema); } catch (e) { violation(`document: ${where}: request ${media}: ${e.message}`); }
      }
      const responses = Object.entries(op.responses ?? {});
      if (responses.length === 0) violation(`document: ${where} documents no responses`);
      for (const [status, r] of responses) {
        if (!/^[1-5][0-9][0-9]$/.test(status)) violation(`document: ${where}: response key ${status} is not a status`);
        const res = deref(r);
        if (!res?.description) violation(`document: ${where} ${status}: a response needs a description`);
        for (const [media, content] of Object.entries(res?.content ?? {}))
          try { validator(content.schema); } catch (e) { violation(`document: ${where} ${status} ${media}: ${e.message}`); }
        for (const [name, h] of Object.entries(res?.headers ?? {}))
          try { validator(deref(h).schema); } catch (e) { violation(`document: ${where} ${status} header ${name}: ${e.message}`); }
      }
    }
  }
}

// The routes the server's source registers (router.add({"METHOD", "/path", …})), as "METHOD /path".
function sourceRoutes() {
  const dir = path.join(repo, 'src', 'server');
  const out = new Set();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cc'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/router\.add\(\s*\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"/g)) out.add(`${m[1]} ${m[2]}`);
  }
  return out;
}

function documentedRoutes() {
  const out = new Set();
  for (const [p, item] of Object.entries(doc.paths))
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) out.add(`${method.toUpperCase()} ${p}`);
  return out;
}

// ---------------------------------------------------------------------------
// The server under test.

class Server {
  constructor(binary) {
    this.binary = binary;
    this.scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-openapi-'));
    this.dataDir = path.join(this.scratch, 'data');
    this.home = path.join(this.scratch, 'home');
    fs.mkdirSync(this.home);
    this.logPath = path.join(this.scratch, 'server.log');
    this.child = null;
  }

  async start() {
    const log = fs.openSync(this.logPath, 'a');
    this.child = spawn(this.binary, ['server', '--listen', '127.0.0.1:0', '--data-dir', this.dataDir], {
      // No AWS credentials here, and none looked for on the network.
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_'))),
        HOME: this.home,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    let gone = null;
    this.exited.then((r) => { gone = r; });
    const info = path.join(this.dataDir, 'server.json');
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(info)) {
      if (gone) throw new Error(`byoc server exited (${JSON.stringify(gone)}):\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`byoc server did not start in 30 s:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const { url } = JSON.parse(fs.readFileSync(info, 'utf8'));
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.ca = fs.readFileSync(path.join(this.dataDir, 'ca.pem'), 'utf8');
    this.adminToken = fs.readFileSync(path.join(this.dataDir, 'admin.token'), 'utf8').trim();
  }

  log() {
    try { return fs.readFileSync(this.logPath, 'utf8').slice(-4000); } catch { return ''; }
  }

  // Stops the server by its PID (TERM, then KILL) and removes every temp dir.
  async stop() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timeout = new Promise((r) => setTimeout(() => r('timeout'), 15_000));
      if ((await Promise.race([this.exited, timeout])) === 'timeout') {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    this.removeScratch();
  }

  // For exit paths that can't wait: signal handlers.
  stopNow() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.removeScratch();
  }

  removeScratch() {
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }
}

// Connections are reused (the agent keys them by client certificate too).
const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1 });

// One HTTPS request; resolves with status, headers and
// text. `oversize`: announce a body of that many bytes and send none — the
// server must answer from the headers alone (and a client writing a large
// body into a connection the server has closed would see a reset instead).
function request(server, { method, target, headers = {}, body, cert, key, oversize }) {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = https.request({
      host: server.host, port: server.port, method, path: target, headers, ca: server.ca, cert, key,
      agent: oversize ? false : keepAlive,
    }, (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        if (oversize) req.destroy();
      });
      res.on('error', reject);
    });
    req.setTimeout(45_000, () => req.destroy(new Error(`${method} ${target}: no answer in 45 s`)));
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (e) => { if (!answered) reject(e); });
    if (oversize) req.flushHeaders();
    else if (body !== undefined) req.end(body);
    else req.end();
  });
}

// ---------------------------------------------------------------------------
// Checking answers against the document.

const coverage = new Map();  // "METHOD /path STATUS" → count
const methodNotAllowed = new Map();  // path → methods checked for 405
let calls = 0;

function operationOf(method, template) {
  return doc.paths[template]?.[method.toLowerCase()];
}

function fill(template, params) {
  return template.replace(/\{([^}]+)\}/g, (_, name) => {
    if (!(name in params)) throw new Error(`${template}: no value for {${name}}`);
    return encodeURIComponent(params[name]);
  });
}

function mediaType(header) {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

// Calls a documented route and checks the answer. `expect`: the status this
// case must get (or an array of acceptable ones). `bodyValid`: true if the JSON request body must validate
// against the documented request schema (the default when a 2xx is
// expected), false if the schema must reject it, null to not check.
async function call(label, {
  method, template, params = {}, query, rawQuery, token, json, raw, contentType, headers = {}, cert, key, expect, bodyValid, oversize,
}) {
  calls += 1;
  const op = operationOf(method, template);
  if (!op) {
    violation(`${label}: ${method} ${template} is not documented`);
    return { status: 0, body: null, headers: {} };
  }
  let target = fill(template, params);
  if (query) target += `?${new URLSearchParams(query)}`;
  // A query no route reads, refused by the listener itself (any route): sent as written.
  if (rawQuery) target += `?${rawQuery}`;
  const sendHeaders = { ...headers };
  if (token) sendHeaders.Authorization = `Bearer ${token}`;
  let payload;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    sendHeaders['Content-Type'] = contentType ?? 'application/json';
  } else if (raw !== undefined) {
    payload = raw;
    if (contentType) sendHeaders['Content-Type'] = contentType;
  }
  if (oversize) {
    sendHeaders['Content-Type'] = 'application/json';
    sendHeaders['Content-Length'] = oversize;
  } else if (payload !== undefined) {
    sendHeaders['Content-Length'] = Buffer.byteLength(payload);
  }

  // Documented parameters only: a test must not rely on undocumented ones.
  const item = doc.paths[template];
  const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(deref);
  for (const name of Object.keys(query ?? {}))
    if (!declared.some((x) => x.in === 'query' && x.name === name)) violation(`${label}: query parameter ${name} is not documented`);
  for (const name of Object.keys(headers))
    if (!declared.some((x) => x.in === 'header' && x.name.toLowerCase() === name.toLowerCase()))
      violation(`${label}: header ${name} is not documented`);

  if (json !== undefined) {
    const success = [expect].flat().every((x) => x >= 200 && x < 300);
    const must = bodyValid !== undefined ? bodyValid : success ? true : null;
    const schema = deref(op.requestBody)?.content?.['application/json']?.schema;
    if (!schema) {
      violation(`${label}: ${method} ${template} documents no JSON request body`);
    } else if (must !== null) {
      const errors = schemaErrors(schema, json);
      if (must && errors) violation(`${label}: the documented request schema rejects a body the server takes: ${errors}`);
      if (!must && !errors) violation(`${label}: the documented request schema accepts a body the server refuses: ${JSON.stringify(json)}`);
    }
  }

  let res;
  try {
    res = await request(server, { method, target, headers: sendHeaders, body: payload, cert, key, oversize });
  } catch (e) {
    violation(`${label}: ${method} ${target}: ${e.message}`);
    return { status: 0, body: null, headers: {} };
  }
  const where = `${label}: ${method} ${target} → ${res.status}`;
  const expected = expect === undefined ? null : [expect].flat();
  if (expected && !expected.includes(res.status)) violation(`${where}, expected ${expected.join(' or ')}: ${res.text.slice(0, 300)}`);

  const documented = op.responses[String(res.status)];
  let body = null;
  if (!documented) {
    violation(`${where}: status ${res.status} is not documented for ${method} ${template}: ${res.text.slice(0, 300)}`);
  } else {
    const key = `${method} ${template} ${res.status}`;
    coverage.set(key, (coverage.get(key) ?? 0) + 1);
    const response = deref(documented);
    body = checkContent(where, response, res);
    for (const [name, h] of Object.entries(response.headers ?? {})) {
      const value = res.headers[name.toLowerCase()];
      const header = deref(h);
      if (value === undefined) {
        if (header.required) violation(`${where}: required header ${name} missing`);
        continue;
      }
      const errors = schemaErrors(header.schema, value);
      if (errors) violation(`${where}: header ${name}: ${errors}`);
    }
    if (res.headers['idempotent-replayed'] !== undefined && !response.headers?.['Idempotent-Replayed'])
      violation(`${where}: sends Idempotent-Replayed, which this response does not document`);
  }
  return { status: res.status, body, headers: res.headers, text: res.text };
}

function checkContent(where, response, res) {
  const content = response.content;
  if (!content) {
    if (res.text.length) violation(`${where}: documented without a body but sent ${res.text.length} bytes`);
    return null;
  }
  const media = mediaType(res.headers['content-type']);
  const entry = content[media];
  if (!entry) {
    violation(`${where}: Content-Type ${media || '(none)'} is not one documented (${Object.keys(content).join(', ')})`);
    return null;
  }
  let value = res.text;
  if (media === 'application/json') {
    try {
      value = JSON.parse(res.text);
    } catch {
      violation(`${where}: body is not JSON: ${res.text.slice(0, 200)}`);
      return null;
    }
  }
  const errors = schemaErrors(entry.schema, value);
  if (errors) violation(`${where}: body does not match the documented schema: ${errors}\n      body: ${res.text.slice(0, 600)}`);
  return value;
}

// A documented path with an undocumented method must answer 405 (or the path
// has a route the document misses). No token: a missed route answers 401
// and changes nothing.
async function checkMethodNotAllowed(template, params) {
  const item = doc.paths[template];
  if (!item) {
    violation(`405 check: ${template} is not documented`);
    return;
  }
  const mna = deref(doc['x-every-path'].responses['405']);  // any path, any method it lacks
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
    if (item[method.toLowerCase()]) continue;
    calls += 1;
    const target = fill(template, params);
    let res;
    try {
      res = await request(server, { method, target });
    } catch (e) {
      violation(`405 check: ${method} ${target}: ${e.message}`);
      continue;
    }
    const where = `405 check: ${method} ${target} → ${res.status}`;
    if (res.status !== 405) {
      violation(`${where}: expected 405; an undocumented ${method} route on ${template}?`);
      continue;
    }
    checkContent(where, mna, res);
    if (!methodNotAllowed.has(template)) methodNotAllowed.set(template, []);
    methodNotAllowed.get(template).push(method);
  }
}

// ---------------------------------------------------------------------------
// The scenarios.

const TOO_LARGE = (1 << 20) + 1;  // the server's body limit is 1 MiB
const BAD_TOKEN = `byoc_0123456789abcdef.${'A'.repeat(43)}`;

function csr(dir, name) {
  const keyPath = path.join(dir, `${name}.key`);
  const csrPath = path.join(dir, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', `/CN=${name}`, '-keyout', keyPath, '-out', csrPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { key: fs.readFileSync(keyPath, 'utf8'), csr: fs.readFileSync(csrPath, 'utf8') };
}

// Polls an operation until it leaves `running` (each poll is checked too).
async function waitOperation(id, token) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await call('poll operation', {
      method: 'GET', template: '/v1/operations/{id}', params: { id }, token, expect: 200,
    });
    if (r.status !== 200 || r.body?.status !== 'running') return r.body;
    if (Date.now() > deadline) {
      violation(`operation ${id} still running after 30 s`);
      return r.body;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

// The usual bad-request family for a JSON body route.
async function badBodies(label, base, valid) {
  await call(`${label} no token`, { ...base, token: undefined, json: valid, expect: 401, bodyValid: null });
  await call(`${label} bad token`, { ...base, token: BAD_TOKEN, json: valid, expect: 401, bodyValid: null });
  await call(`${label} invalid JSON`, { ...base, raw: '{"name": ', contentType: 'application/json', expect: 400 });
  await call(`${label} not an object`, { ...base, json: [valid], expect: 400, bodyValid: false });
  await call(`${label} wrong media type`, { ...base, raw: JSON.stringify(valid), contentType: 'text/plain', expect: 415 });
  await call(`${label} too large`, { ...base, oversize: TOO_LARGE, expect: 413 });
  await call(`${label} unknown field`, { ...base, json: { ...valid, surprise: 1 }, expect: 422, bodyValid: false });
}

async function scenarios(s) {
  const admin = s.adminToken;

  console.log('system routes');
  await call('health', { method: 'GET', template: '/healthz', expect: 200 });
  const served = await call('openapi', { method: 'GET', template: '/v1/openapi.json', expect: 200 });
  if (served.text !== docText) violation('GET /v1/openapi.json is not byte-for-byte docs/openapi.json (rebuild byoc?)');
  else if (!isDeepStrictEqual(served.body, doc)) violation('GET /v1/openapi.json differs from docs/openapi.json');
  const metrics = await call('metrics', { method: 'GET', template: '/metrics', expect: 200 });
  if (!String(metrics.body).includes('byoc_http_requests_total'))
    violation('GET /metrics: no byoc_http_requests_total in the exposition');

  console.log('organisations and tokens');
  const orgs = { method: 'POST', template: '/v1/organizations', token: admin };
  const acme = await call('create org', {
    ...orgs, json: { name: 'acme' }, headers: { 'Idempotency-Key': 'org-acme' }, expect: 201,
  });
  if (acme.headers['idempotent-replayed'] !== undefined) violation('a first request was marked Idempotent-Replayed');
  const again = await call('create org replay', {
    ...orgs, json: { name: 'acme' }, headers: { 'Idempotency-Key': 'org-acme' }, expect: 201,
  });
  if (again.headers['idempotent-replayed'] !== 'true') violation('an Idempotency-Key repeat was not marked Idempotent-Replayed');
  if (!isDeepStrictEqual(again.body, acme.body)) violation('an Idempotency-Key repeat answered a different body');
  await call('create org key reused', {
    ...orgs, json: { name: 'other' }, headers: { 'Idempotency-Key': 'org-acme' }, expect: 422,
  });
  await call('create org key too long', {
    ...orgs, json: { name: 'other' }, headers: { 'Idempotency-Key': 'k'.repeat(256) }, expect: 422, bodyValid: null,
  });
  await call('create org duplicate', { ...orgs, json: { name: 'acme' }, expect: 409 });
  await call('create org bad name', { ...orgs, json: { name: 'Not_A_Label' }, expect: 422, bodyValid: false });
  await call('create org name type', { ...orgs, json: { name: 7 }, expect: 400, bodyValid: false });
  await call('create org read-only field', {
    ...orgs, json: { name: 'x', created_at: '2020-01-01T00:00:00Z' }, expect: 422, bodyValid: false,
  });
  await call('create org missing name', { ...orgs, json: {}, expect: 422, bodyValid: false });
  await badBodies('create org', orgs, { name: 'zeta' });

  const tokens = { method: 'POST', template: '/v1/tokens', token: admin };
  const customer = await call('create customer token', {
    ...tokens, json: { role: 'customer', organization: 'acme' }, expect: 201,
  });
  const operator = await call('create operator token', {
    ...tokens, json: { role: 'operator', subject: 'oncall@vendor.example' }, expect: 201,
  });
  if (operator.body?.subject !== 'oncall@vendor.example') violation('a token does not show its subject');
  const approver = await call('create approver token', {
    ...tokens, json: { role: 'approver', organization: 'default', subject: 'lead@vendor.example' },
    headers: { 'Idempotency-Key': 'tok-1' }, expect: 201,
  });
  const replay = await call('create token replay', {
    ...tokens, json: { role: 'approver', organization: 'default', subject: 'lead@vendor.example' },
    headers: { 'Idempotency-Key': 'tok-1' }, expect: 201,
  });
  await call('create vendor token without subject', { ...tokens, json: { role: 'operator' }, expect: 422, bodyValid: false });
  await call('create token subject with a control character', {
    ...tokens, json: { role: 'operator', subject: 'eve\u0007@x' }, expect: 422, bodyValid: false,
  });
  await call('create token subject null', { ...tokens, json: { role: 'operator', subject: null }, expect: 400, bodyValid: false });
  if (replay.body?.token !== '<redacted: shown once>') violation('a replayed token creation showed the secret again');
  if (replay.body?.id !== approver.body?.id) violation('a replayed token creation answered another token');
  const spare = await call('create admin token', { ...tokens, json: { role: 'admin', subject: 'spare@vendor.example' }, expect: 201 });
  await call('create token unknown role', { ...tokens, json: { role: 'king' }, expect: 422, bodyValid: false });
  await call('create token unknown org', {
    ...tokens, json: { role: 'customer', organization: 'nope' }, expect: 404,
  });
  await call('create token role type', { ...tokens, json: { role: 5 }, expect: 400, bodyValid: false });
  await call('create token read-only', {
    ...tokens, json: { role: 'admin', token: 'x' }, expect: 422, bodyValid: false,
  });
  await badBodies('create token', tokens, { role: 'operator', subject: 'x@vendor.example' });
  const cust = customer.body?.token;
  const oper = operator.body?.token;
  const appr = approver.body?.token;
  if (!cust || !oper || !appr || !spare.body?.token) throw new Error('could not create the tokens the scenarios need');
  await call('create token as customer', { ...tokens, token: cust, json: { role: 'admin' }, expect: 403 });
  await call('create token as operator', { ...tokens, token: oper, json: { role: 'admin' }, expect: 403 });
  await call('create org as customer', { ...orgs, token: cust, json: { name: 'mine' }, expect: 403 });
  await call('create org as approver', { ...orgs, token: appr, json: { name: 'mine' }, expect: 403 });

  const listOrgs = { method: 'GET', template: '/v1/organizations' };
  await call('list orgs', { ...listOrgs, token: admin, expect: 200 });
  await call('list orgs no token', { ...listOrgs, expect: 401 });
  await call('list orgs as customer', { ...listOrgs, token: cust, expect: 403 });
  await call('list orgs as operator', { ...listOrgs, token: oper, expect: 403 });

  const listTokens = { method: 'GET', template: '/v1/tokens' };
  const listed = await call('list tokens', { ...listTokens, token: admin, expect: 200 });
  if (listed.text && /byoc_[0-9a-f]{16}\./.test(listed.text)) violation('GET /v1/tokens shows a token secret');
  await call('list tokens no token', { ...listTokens, expect: 401 });
  await call('list tokens as customer', { ...listTokens, token: cust, expect: 403 });

  const del = { method: 'DELETE', template: '/v1/tokens/{id}' };
  const adminId = admin.slice('byoc_'.length, 'byoc_'.length + 16);
  await call('delete token no token', { ...del, params: { id: spare.body.id }, expect: 401 });
  await call('delete token as customer', { ...del, params: { id: spare.body.id }, token: cust, expect: 403 });
  await call('delete own token', { ...del, params: { id: adminId }, token: admin, expect: 409 });
  await call('delete token', { ...del, params: { id: spare.body.id }, token: admin, expect: 204 });
  await call('delete token again', { ...del, params: { id: spare.body.id }, token: admin, expect: 404 });
  await call('revoked token', { ...listTokens, token: spare.body.token, expect: 401 });
  const listServers = { method: 'GET', template: '/v1/servers' };
  const servers = await call('list servers', { ...listServers, token: admin, expect: 200 });
  if (!servers.body || servers.body.items.length !== 1 || !servers.body.items[0].answering)
    violation('GET /v1/servers of a lone server lists it alone, as the answering one');
  await call('list servers no token', { ...listServers, expect: 401 });
  await call('list servers as operator', { ...listServers, token: oper, expect: 403 });
  await checkMethodNotAllowed('/v1/servers', {});
  await checkMethodNotAllowed('/v1/organizations', {});
  await checkMethodNotAllowed('/v1/tokens', {});
  await checkMethodNotAllowed('/v1/tokens/{id}', { id: spare.body.id });

  console.log('environments');
  const envs = { method: 'POST', template: '/v1/environments', token: admin };
  const ext = { name: 'ext1', cloud: 'external', cidr: '10.1.0.0/16', zones: ['a', 'b'] };
  const created = await call('create external env', {
    ...envs, json: ext, headers: { 'Idempotency-Key': 'env-ext1' }, expect: 202,
  });
  const createdAgain = await call('create env replay', {
    ...envs, json: ext, headers: { 'Idempotency-Key': 'env-ext1' }, expect: 202,
  });
  if (createdAgain.headers['idempotent-replayed'] !== 'true' || createdAgain.body?.id !== created.body?.id)
    violation('an environment creation repeated with its Idempotency-Key was not the replay of the first');
  // Keys belong to the caller: the same key from another token is a new request.
  await call('create env other caller same key', {
    ...envs, token: cust, json: { name: 'cust1', cloud: 'external', cidr: '10.2.0.0/16' }, headers: { 'Idempotency-Key': 'env-ext1' }, expect: 202,
  });
  const aws = await call('create aws env', {
    ...envs, json: { name: 'aws1', cloud: 'aws', region: 'us-east-1', cidr: '10.3.0.0/16' }, expect: 202,
  });
  await call('create env to delete', {
    ...envs, json: { name: 'gone', cloud: 'external', cidr: '10.4.0.0/24' }, expect: 202,
  });
  await call('create env as operator', {
    ...envs, token: oper, json: { name: 'x', cloud: 'external', cidr: '10.5.0.0/16' }, expect: 403,
  });
  await call('create env unknown org', {
    ...envs, query: { organization: 'nope' }, json: { name: 'x', cloud: 'external', cidr: '10.5.0.0/16' }, expect: 404,
  });
  await call('create env customer other org', {
    ...envs, token: cust, query: { organization: 'default' }, json: { name: 'x', cloud: 'external', cidr: '10.5.0.0/16' }, expect: 404,
  });
  await call('create env duplicate', { ...envs, json: ext, expect: 409 });
  await call('create env public cidr', {
    ...envs, json: { ...ext, name: 'pub', cidr: '8.8.0.0/16' }, expect: 422, bodyValid: true,
  });
  await call('create env unknown cloud', {
    ...envs, json: { ...ext, name: 'x', cloud: 'gcp' }, expect: 422, bodyValid: false,
  });
  await call('create env unknown zone', {
    ...envs, json: { ...ext, name: 'x', zones: ['z'] }, expect: 422, bodyValid: true,
  });
  await call('create env duplicate zone', {
    ...envs, json: { ...ext, name: 'x', zones: ['a', 'a'] }, expect: 422, bodyValid: false,
  });
  await call('create env read-only field', {
    ...envs, json: { ...ext, name: 'x', state: 'READY' }, expect: 422, bodyValid: false,
  });
  await call('create env no cidr', {
    ...envs, json: { name: 'x', cloud: 'external' }, expect: 422, bodyValid: false,
  });
  await call('create env instance types on external', {
    ...envs, json: { ...ext, name: 'x', instance_types: [] }, expect: 422, bodyValid: true,
  });
  await call('create env daemonsets unknown field', {
    ...envs, json: { ...ext, name: 'x', daemonsets: { gpu: 1 } }, expect: 422, bodyValid: false,
  });
  await call('create env zones type', {
    ...envs, json: { ...ext, name: 'x', zones: 'a' }, expect: 400, bodyValid: false,
  });
  // No field is nullable: a null is the wrong type, never "use the default".
  for (const field of ['region', 'zones', 'instance_types', 'daemonsets']) {
    await call(`create env ${field} null`, {
      ...envs, json: { ...ext, name: 'x', [field]: null }, expect: 400, bodyValid: false,
    });
  }
  await badBodies('create env', envs, { name: 'y', cloud: 'external', cidr: '10.6.0.0/16' });

  const envOp = await waitOperation(created.body.id, admin);
  if (envOp?.status !== 'succeeded') violation(`environment.create of ext1 ended ${envOp?.status}`);
  // An aws environment waits for the customer's role: its operation runs on.
  const awsEnv = await call('get aws env', {
    method: 'GET', template: '/v1/environments/{env}', params: { env: 'aws1' }, token: admin, expect: 200,
  });
  if (awsEnv.body?.state !== 'AWAITING_CUSTOMER_ROLE') violation(`aws1 is ${awsEnv.body?.state}, not AWAITING_CUSTOMER_ROLE`);
  if (!awsEnv.body?.account?.external_id) violation('aws1 shows no ExternalId');
  const verify = { method: 'POST', template: '/v1/environments/{env}/verify', token: admin };
  const unknownAccount = await call('verify aws env without account', { ...verify, params: { env: 'aws1' }, json: {}, expect: 200 });
  if (unknownAccount.body?.granted !== false || unknownAccount.body?.reason !== 'account_id_missing')
    violation(`verify of aws1 without an account answered ${JSON.stringify(unknownAccount.body)}`);
  await call('verify external env', { ...verify, params: { env: 'ext1' }, json: {}, expect: 409 });
  await call('verify unknown env', { ...verify, params: { env: 'nope' }, json: {}, expect: 404 });
  await call('verify as operator', { ...verify, params: { env: 'aws1' }, token: oper, json: {}, expect: 403 });
  await call('verify no token', { ...verify, params: { env: 'aws1' }, token: undefined, json: {}, expect: 401 });
  await call('verify with a body', { ...verify, params: { env: 'aws1' }, json: { now: true }, expect: 422, bodyValid: false });
  await call('verify with a broken body', {
    ...verify, params: { env: 'aws1' }, raw: '{', contentType: 'application/json', expect: 400, bodyValid: null,
  });
  await checkMethodNotAllowed('/v1/environments/{env}/verify', { env: 'aws1' });
  const withAccount = await call('patch aws env account', {
    method: 'PATCH', template: '/v1/environments/{env}', params: { env: 'aws1' }, token: admin,
    json: { account: { account_id: '123456789012', role_name: 'ByocRole' } }, expect: 200,
  });
  if (withAccount.body?.account?.role_arn !== 'arn:aws:iam::123456789012:role/ByocRole')
    violation(`the role ARN expected is ${withAccount.body?.account?.role_arn}`);
  await call('patch aws env bad account', {
    method: 'PATCH', template: '/v1/environments/{env}', params: { env: 'aws1' }, token: admin,
    json: { account: { account_id: '12345' } }, expect: 422, bodyValid: false,
  });
  await call('patch external env account', {
    method: 'PATCH', template: '/v1/environments/{env}', params: { env: 'ext1' }, token: admin,
    json: { account: { account_id: '123456789012' } }, expect: 422, bodyValid: true,
  });

  const list = { method: 'GET', template: '/v1/environments' };
  const all = await call('list envs', { ...list, token: admin, expect: 200 });
  if (!all.body?.items?.some((e) => e.name === 'ext1')) violation('GET /v1/environments does not list ext1');
  const custList = await call('list envs as customer', { ...list, token: cust, expect: 200 });
  if (custList.body?.items?.some((e) => e.organization !== 'acme')) violation('a customer sees another organisation\'s environments');
  await call('list envs as operator in acme', { ...list, token: oper, query: { organization: 'acme' }, expect: 200 });
  await call('list envs unknown org', { ...list, token: admin, query: { organization: 'nope' }, expect: 404 });
  await call('list envs no token', { ...list, expect: 401 });
  await checkMethodNotAllowed('/v1/environments', {});

  const one = { method: 'GET', template: '/v1/environments/{env}' };
  await call('get env', { ...one, params: { env: 'ext1' }, token: admin, expect: 200 });
  await call('get env as approver', { ...one, params: { env: 'ext1' }, token: appr, expect: 200 });
  await call('get env unknown', { ...one, params: { env: 'nope' }, token: admin, expect: 404 });
  await call('get env other org as customer', { ...one, params: { env: 'ext1' }, token: cust, expect: 404 });
  await call('get env no token', { ...one, params: { env: 'ext1' }, expect: 401 });
  await checkMethodNotAllowed('/v1/environments/{env}', { env: 'ext1' });

  console.log('profiles and environment changes');
  const profiles = { method: 'GET', template: '/v1/environments/{env}/profiles' };
  const awsProfiles = await call('profiles aws', { ...profiles, params: { env: 'aws1' }, token: admin, expect: 200 });
  await call('profiles external (no capacity yet)', {
    ...profiles, params: { env: 'ext1' }, token: admin, expect: 409,
  });
  await call('profiles unknown env', { ...profiles, params: { env: 'nope' }, token: admin, expect: 404 });
  await call('profiles no token', { ...profiles, params: { env: 'aws1' }, expect: 401 });
  await checkMethodNotAllowed('/v1/environments/{env}/profiles', { env: 'aws1' });
  const instanceType = awsProfiles.body?.items?.[0]?.instance_type;
  if (!instanceType) throw new Error('the aws environment offers no profile');

  const patch = { method: 'PATCH', template: '/v1/environments/{env}', params: { env: 'aws1' }, token: admin };
  const patched = await call('patch aws env', {
    ...patch, json: { instance_types: [instanceType], daemonsets: { cpu_millis: 100, memory_mib: 128 } }, expect: 200,
  });
  if (patched.body?.instance_types?.[0] !== instanceType) violation('PATCH environment did not apply instance_types');
  await call('patch external env capacity', {
    ...patch, params: { env: 'ext1' }, json: { instance_types: [instanceType] }, expect: 422, bodyValid: true,
  });
  const policy = await call('patch access policy', {
    ...patch, params: { env: 'ext1' }, json: { access_policy: { approvals: 1, pending_ttl_seconds: 1800 } }, expect: 200,
  });
  if (policy.body?.access_policy?.pending_ttl_seconds !== 1800) violation('PATCH access_policy did not apply');
  await call('patch access policy out of range', {
    ...patch, params: { env: 'ext1' }, json: { access_policy: { approvals: 4 } }, expect: 422, bodyValid: false,
  });
  await call('patch unknown instance type', {
    ...patch, json: { instance_types: ['q9.huge'] }, expect: 422, bodyValid: true,
  });
  await call('patch read-only', { ...patch, json: { name: 'x' }, expect: 422, bodyValid: false });
  await call('patch daemonsets out of range', {
    ...patch, json: { daemonsets: { cpu_millis: -1 } }, expect: 422, bodyValid: false,
  });
  await call('patch instance types type', { ...patch, json: { instance_types: 'x' }, expect: 400, bodyValid: false });
  await call('patch as operator', { ...patch, token: oper, json: {}, expect: 403 });
  await call('patch unknown env', { ...patch, params: { env: 'nope' }, json: {}, expect: 404 });
  await badBodies('patch env', patch, { daemonsets: { cpu_millis: 0 } });

  console.log('join tokens');
  const join = { method: 'POST', template: '/v1/environments/{env}/join-tokens', params: { env: 'ext1' }, token: admin };
  const jt = await call('join token', { ...join, json: {}, headers: { 'Idempotency-Key': 'join-1' }, expect: 201 });
  const jtReplay = await call('join token replay', {
    ...join, json: {}, headers: { 'Idempotency-Key': 'join-1' }, expect: 201,
  });
  if (jtReplay.body?.token !== '<redacted: shown once>') violation('a replayed join token showed the secret again');
  await call('join token without body', { ...join, expect: 201 });
  await call('join token as customer', { ...join, params: { env: 'cust1' }, token: cust, json: {}, expect: 201 });
  await call('join token as operator', { ...join, token: oper, json: {}, expect: 403 });
  await call('join token unknown env', { ...join, params: { env: 'nope' }, json: {}, expect: 404 });
  await call('join token with a field', { ...join, json: { ttl: 5 }, expect: 422, bodyValid: false });
  await badBodies('join token', join, {});

  console.log('services');
  const svcs = { method: 'POST', template: '/v1/environments/{env}/services', params: { env: 'ext1' }, token: admin };
  const svc = await call('create service', {
    ...svcs, json: { name: 'svc1', shards: 1, replicas: 2, allowed_ips: ['127.0.0.1/32'] }, headers: { 'Idempotency-Key': 'svc-1' }, expect: 202,
  });
  const svcReplay = await call('create service replay', {
    ...svcs, json: { name: 'svc1', shards: 1, replicas: 2, allowed_ips: ['127.0.0.1/32'] }, headers: { 'Idempotency-Key': 'svc-1' }, expect: 202,
  });
  if (svcReplay.body?.password !== '<redacted: shown once>') violation('a replayed service creation showed the password again');
  await call('create service 2', { ...svcs, json: { name: 'svc2' }, expect: 202 });
  await call('create service customer', {
    ...svcs, params: { env: 'cust1' }, token: cust, json: { name: 'c1', cpu_millis: 500, memory_mib: 1024 }, expect: 202,
  });
  const profiled = await call('create service with profile', {
    ...svcs, params: { env: 'aws1' }, json: { name: 'p1', profile: instanceType }, expect: 202,
  });
  await call('create service profile on external', {
    ...svcs, json: { name: 'p2', profile: 'host' }, expect: 409, bodyValid: true,
  });
  await call('create service profile conflict', {
    ...svcs, params: { env: 'aws1' }, json: { name: 'p3', profile: instanceType, cpu_millis: 500 }, expect: 422, bodyValid: false,
  });
  await call('create service unknown profile', {
    ...svcs, params: { env: 'aws1' }, json: { name: 'p4', profile: 'nope' }, expect: 422, bodyValid: true,
  });
  await call('create service duplicate', { ...svcs, json: { name: 'svc1' }, expect: 409 });
  for (const field of ['replicas', 'shards', 'clickhouse_version', 'profile', 'allowed_ips']) {
    await call(`create service ${field} null`, {
      ...svcs, json: { name: 'nul', [field]: null }, expect: 400, bodyValid: false,
    });
  }
  await call('create service shards 0', { ...svcs, json: { name: 'x', shards: 0 }, expect: 422, bodyValid: false });
  await call('create service replicas 17', {
    ...svcs, json: { name: 'x', replicas: 17 }, expect: 422, bodyValid: false,
  });
  await call('create service bad cidr', {
    ...svcs, json: { name: 'x', allowed_ips: ['10.0.0.1/8'] }, expect: 422, bodyValid: true,
  });
  await call('create service unknown version', {
    ...svcs, json: { name: 'x', clickhouse_version: '99.1' }, expect: 422, bodyValid: true,
  });
  await call('create service read-only', {
    ...svcs, json: { name: 'x', password: 'p' }, expect: 422, bodyValid: false,
  });
  await call('create service shards type', {
    ...svcs, json: { name: 'x', shards: '1' }, expect: 400, bodyValid: false,
  });
  await call('create service as operator', { ...svcs, token: oper, json: { name: 'x' }, expect: 403 });
  await call('create service unknown env', { ...svcs, params: { env: 'nope' }, json: { name: 'x' }, expect: 404 });
  await call('create service customer other org', { ...svcs, token: cust, json: { name: 'x' }, expect: 404 });
  await badBodies('create service', svcs, { name: 'z' });
  if (profiled.body?.kind !== 'service.create') violation('a service created with a profile should answer its service.create');

  const listSvcs = { method: 'GET', template: '/v1/environments/{env}/services', params: { env: 'ext1' } };
  const inExt = await call('list env services', { ...listSvcs, token: admin, expect: 200 });
  if (inExt.body?.items?.length !== 2) violation(`ext1 should list 2 services, lists ${inExt.body?.items?.length}`);
  await call('list env services aws', { ...listSvcs, params: { env: 'aws1' }, token: admin, expect: 200 });
  await call('list env services unknown env', { ...listSvcs, params: { env: 'nope' }, token: admin, expect: 404 });
  await call('list env services no token', { ...listSvcs, expect: 401 });
  await checkMethodNotAllowed('/v1/environments/{env}/services', { env: 'ext1' });

  const getSvc = { method: 'GET', template: '/v1/environments/{env}/services/{svc}', params: { env: 'ext1', svc: 'svc1' } };
  await call('get service', { ...getSvc, token: admin, expect: 200 });
  await call('get service as operator', { ...getSvc, token: oper, expect: 200 });
  await call('get service profiled', { ...getSvc, params: { env: 'aws1', svc: 'p1' }, token: admin, expect: 200 });
  await call('get service unknown', { ...getSvc, params: { env: 'ext1', svc: 'nope' }, token: admin, expect: 404 });
  await call('get service unknown env', {
    ...getSvc, params: { env: 'nope', svc: 'svc1' }, token: admin, expect: 404,
  });
  await call('get service no token', { ...getSvc, expect: 401 });

  const patchSvc = { method: 'PATCH', template: '/v1/environments/{env}/services/{svc}', params: { env: 'ext1', svc: 'svc1' }, token: admin };
  const upd = await call('patch service', {
    ...patchSvc, json: { allowed_ips: ['127.0.0.1/32', '10.0.0.0/8'] }, expect: 202,
  });
  if (upd.body?.kind !== 'service.update' || upd.body?.status !== 'running') violation('PATCH service that changes something should answer a running service.update');
  const noop = await call('patch service unchanged', {
    ...patchSvc, json: { allowed_ips: ['127.0.0.1/32', '10.0.0.0/8'] }, expect: 202,
  });
  if (noop.body?.status !== 'succeeded') violation('PATCH service that changes nothing should answer a succeeded operation');
  await call('patch service empty', { ...patchSvc, json: {}, expect: 202 });
  await call('patch service bad cidr', {
    ...patchSvc, json: { allowed_ips: ['nope'] }, expect: 422, bodyValid: true,
  });
  await call('patch service read-only', { ...patchSvc, json: { shards: 2 }, expect: 422, bodyValid: false });
  await call('patch service null list', { ...patchSvc, json: { allowed_ips: null }, expect: 400, bodyValid: false });
  await call('patch service as operator', { ...patchSvc, token: oper, json: {}, expect: 403 });
  await call('patch service unknown', { ...patchSvc, params: { env: 'ext1', svc: 'nope' }, json: {}, expect: 404 });
  await badBodies('patch service', patchSvc, { allowed_ips: [] });

  const delSvc = { method: 'DELETE', template: '/v1/environments/{env}/services/{svc}', params: { env: 'ext1', svc: 'svc2' }, token: admin };
  const deleting = await call('delete service', { ...delSvc, expect: 202 });
  const deletingAgain = await call('delete service again', { ...delSvc, expect: 202 });
  if (deletingAgain.body?.id !== deleting.body?.id) violation('a second DELETE of a deleting service should answer the same operation');
  await call('patch deleting service', { ...patchSvc, params: { env: 'ext1', svc: 'svc2' }, json: {}, expect: 409 });
  await call('delete service as approver', { ...delSvc, token: appr, expect: 403 });
  await call('delete service unknown', { ...delSvc, params: { env: 'ext1', svc: 'nope' }, expect: 404 });
  await call('delete service no token', { ...delSvc, token: undefined, expect: 401 });
  await checkMethodNotAllowed('/v1/environments/{env}/services/{svc}', { env: 'ext1', svc: 'svc1' });

  console.log('maintenance policies');
  const laWindow = {
    time_zone: 'America/Los_Angeles',
    weekly: [{ days: ['tue', 'thu'], start: '01:00', duration_minutes: 240 }],
    blackouts: [{ from: '2026-12-20', to: '2027-01-03' }],
  };
  const envMaint = { method: 'GET', template: '/v1/environments/{env}/maintenance', params: { env: 'ext1' } };
  const defaults = await call('env maintenance default', { ...envMaint, token: oper, expect: 200 });
  if (defaults.body?.window !== null || defaults.body?.channel !== 'regular')
    violation(`an environment's default maintenance policy: ${JSON.stringify(defaults.body)}`);
  await call('env maintenance other org as customer', { ...envMaint, token: cust, expect: 404 });
  await call('env maintenance no token', { ...envMaint, expect: 401 });
  const putEnvMaint = { ...envMaint, method: 'PUT', token: admin };
  const set = await call('put env maintenance', { ...putEnvMaint, json: { window: laWindow, channel: 'slow' }, expect: 200 });
  if (!isDeepStrictEqual(set.body, { window: laWindow, channel: 'slow' })) violation(`PUT maintenance: ${JSON.stringify(set.body)}`);
  await call('put env maintenance as customer', {
    ...putEnvMaint, params: { env: 'cust1' }, token: cust, json: { channel: 'fast' }, expect: 200,
  });
  await call('put env maintenance as operator', { ...putEnvMaint, token: oper, json: {}, expect: 403 });
  await call('put env maintenance unknown env', { ...putEnvMaint, params: { env: 'nope' }, json: {}, expect: 404 });
  await call('put env maintenance unknown zone', {
    ...putEnvMaint, json: { window: { ...laWindow, time_zone: 'Mars/Olympus' } }, expect: 422, bodyValid: true,
  });
  await call('put env maintenance short window', {
    ...putEnvMaint, json: { window: { ...laWindow, weekly: [{ days: ['mon'], start: '01:00', duration_minutes: 10 }] } },
    expect: 422, bodyValid: false,
  });
  await call('put env maintenance bad channel', { ...putEnvMaint, json: { channel: 'beta' }, expect: 422, bodyValid: false });
  await call('put env maintenance window type', { ...putEnvMaint, json: { window: 'tue' }, expect: 400, bodyValid: false });
  await badBodies('put env maintenance', putEnvMaint, { channel: 'fast' });
  const after = await call('env maintenance after bad puts', { ...envMaint, token: admin, expect: 200 });
  if (!isDeepStrictEqual(after.body, { window: laWindow, channel: 'slow' })) violation('a refused PUT changed the policy');
  await checkMethodNotAllowed('/v1/environments/{env}/maintenance', { env: 'ext1' });

  const svcMaint = { method: 'GET', template: '/v1/environments/{env}/services/{svc}/maintenance', params: { env: 'ext1', svc: 'svc1' } };
  const inherited = await call('service maintenance inherited', { ...svcMaint, token: oper, expect: 200 });
  if (inherited.body?.source !== 'environment' || inherited.body?.channel !== 'slow')
    violation(`a service inherits its environment's policy: ${JSON.stringify(inherited.body)}`);
  await call('service maintenance unknown service', { ...svcMaint, params: { env: 'ext1', svc: 'nope' }, token: admin, expect: 404 });
  await call('service maintenance no token', { ...svcMaint, expect: 401 });
  const putSvcMaint = { ...svcMaint, method: 'PUT', token: admin };
  const own = await call('put service maintenance', { ...putSvcMaint, json: { window: null, channel: 'fast' }, expect: 200 });
  if (own.body?.source !== 'service' || own.body?.window !== null) violation(`PUT service maintenance: ${JSON.stringify(own.body)}`);
  await call('put service maintenance as operator', { ...putSvcMaint, token: oper, json: {}, expect: 403 });
  await call('put service maintenance unknown', { ...putSvcMaint, params: { env: 'ext1', svc: 'nope' }, json: {}, expect: 404 });
  await call('put service maintenance deleting', { ...putSvcMaint, params: { env: 'ext1', svc: 'svc2' }, json: {}, expect: 409 });
  await call('put service maintenance bad day', {
    ...putSvcMaint, json: { window: { ...laWindow, weekly: [{ days: ['Tue'], start: '01:00', duration_minutes: 60 }] } },
    expect: 422, bodyValid: false,
  });
  await badBodies('put service maintenance', putSvcMaint, {});
  const delSvcMaint = { ...svcMaint, method: 'DELETE', token: admin };
  const back = await call('delete service maintenance', { ...delSvcMaint, expect: 200 });
  if (back.body?.source !== 'environment') violation(`DELETE service maintenance: ${JSON.stringify(back.body)}`);
  await call('delete service maintenance as operator', { ...delSvcMaint, token: oper, expect: 403 });
  await call('delete service maintenance unknown', { ...delSvcMaint, params: { env: 'nope', svc: 'svc1' }, expect: 404 });
  await call('delete service maintenance deleting', { ...delSvcMaint, params: { env: 'ext1', svc: 'svc2' }, expect: 409 });
  await call('delete service maintenance no token', { ...delSvcMaint, token: undefined, expect: 401 });
  await checkMethodNotAllowed('/v1/environments/{env}/services/{svc}/maintenance', { env: 'ext1', svc: 'svc1' });

  const allSvcs = { method: 'GET', template: '/v1/services' };
  await call('list services', { ...allSvcs, token: admin, expect: 200 });
  await call('list services of env', { ...allSvcs, token: admin, query: { environment: 'aws1' }, expect: 200 });
  await call('list services as customer', { ...allSvcs, token: cust, expect: 200 });
  await call('list services unknown env', { ...allSvcs, token: admin, query: { environment: 'nope' }, expect: 404 });
  await call('list services unknown org', { ...allSvcs, token: admin, query: { organization: 'nope' }, expect: 404 });
  await call('list services no token', { ...allSvcs, expect: 401 });
  await checkMethodNotAllowed('/v1/services', {});

  const getOp = { method: 'GET', template: '/v1/operations/{id}', params: { id: svc.body?.id } };
  await call('get operation', { ...getOp, token: admin, expect: 200 });
  await call('get operation as customer (other org)', { ...getOp, token: cust, expect: 404 });
  await call('get operation unknown', { ...getOp, params: { id: 'op-0000000000000000' }, token: admin, expect: 404 });
  await call('get operation no token', { ...getOp, expect: 401 });
  await checkMethodNotAllowed('/v1/operations/{id}', { id: svc.body?.id });

  console.log('agent');
  const agentJoin = { method: 'POST', template: '/v1/agent/join' };
  const first = csr(s.scratch, 'agent1');
  const joined = await call('agent join', {
    ...agentJoin, json: { token: jt.body.token, csr: first.csr }, expect: 200,
  });
  await call('agent join token reused', {
    ...agentJoin, json: { token: jt.body.token, csr: first.csr }, expect: 401, bodyValid: true,
  });
  await call('agent join bad token', {
    ...agentJoin, json: { token: 'byocjoin_nope', csr: first.csr }, expect: 401, bodyValid: true,
  });
  const jt2 = await call('join token 2', { ...join, json: {}, expect: 201 });
  await call('agent join bad csr', {
    ...agentJoin, json: { token: jt2.body.token, csr: 'not a csr' }, expect: 422, bodyValid: true,
  });
  await call('agent join missing csr', {
    ...agentJoin, json: { token: jt2.body.token }, expect: 400, bodyValid: false,
  });
  await call('agent join extra field', {
    ...agentJoin, json: { token: jt2.body.token, csr: first.csr, name: 'x' }, expect: 400, bodyValid: false,
  });
  await call('agent join invalid JSON', { ...agentJoin, raw: '{', contentType: 'application/json', expect: 400 });
  await call('agent join too large', { ...agentJoin, oversize: TOO_LARGE, expect: 413 });
  await call('agent join wrong media type', {
    ...agentJoin, raw: JSON.stringify({ token: jt2.body.token, csr: first.csr }), contentType: 'text/plain', expect: 415,
  });
  await checkMethodNotAllowed('/v1/agent/join', {});

  const sync = { method: 'POST', template: '/v1/agent/sync', cert: joined.body?.certificate, key: first.key };
  const report = {
    protocol_version: 1, known_revision: 0, seq: 1,
    status: {
      applied_revision: 0,
      services: [{ name: 'svc1', state: 'PROVISIONING', reason: 'starting', replicas: [{ shard: 1, replica: 1, state: 'STARTING', last_error_code: 0 }] }],
    },
    usage: [{ seq: 1, service: 'svc1', shard: 1, replica: 1, start: 100, end: 160, cpu_millis_seconds: 60000, memory_mib_seconds: 122880 }],
  };
  const synced = await call('agent sync', { ...sync, json: report, expect: 200 });
  if (!synced.body?.desired) violation('a sync with an old known_revision got no desired state');
  if (synced.body?.usage_acked_seq !== 1) violation(`usage_acked_seq should be 1, is ${synced.body?.usage_acked_seq}`);
  const revision = synced.body?.revision ?? 1;
  await call('agent sync no certificate', {
    ...sync, cert: undefined, key: undefined, json: report, expect: 401, bodyValid: true,
  });
  await call('agent sync unknown field', {
    ...sync, json: { ...report, query_log: [] }, expect: 422, bodyValid: false,
  });
  await call('agent sync other protocol', {
    ...sync, json: { ...report, protocol_version: 7 }, expect: 422, bodyValid: false,
  });
  await call('agent sync bad state', {
    ...sync, json: { ...report, status: { services: [{ name: 'svc1', state: 'HAPPY' }] } }, expect: 422, bodyValid: false,
  });
  await call('agent sync invalid JSON', { ...sync, raw: '{', contentType: 'application/json', expect: 400 });
  await call('agent sync too large', { ...sync, oversize: TOO_LARGE, expect: 413 });
  await call('agent sync wrong media type', { ...sync, raw: JSON.stringify(report), contentType: 'text/plain', expect: 415 });
  await checkMethodNotAllowed('/v1/agent/sync', {});

  // Rejoin: the new certificate replaces the old one.
  const jt3 = await call('join token 3', { ...join, json: {}, expect: 201 });
  const second = csr(s.scratch, 'agent2');
  const rejoined = await call('agent rejoin', {
    ...agentJoin, json: { token: jt3.body.token, csr: second.csr }, expect: 200,
  });
  await call('agent sync revoked certificate', { ...sync, json: report, expect: 401, bodyValid: true });
  // The agent has applied everything and no longer runs svc2: its delete completes.
  const current = { ...sync, cert: rejoined.body?.certificate, key: second.key };
  await call('agent sync applied', {
    ...current,
    json: { protocol_version: 1, known_revision: revision - 1, seq: 2, status: { applied_revision: revision, services: [{ name: 'svc1', state: 'READY', endpoint: 'https://127.0.0.1:9440' }] } },
    expect: 200,
  });
  const svc2Gone = await waitOperation(deleting.body.id, admin);
  if (svc2Gone?.status !== 'succeeded') violation(`service.delete of svc2 ended ${svc2Gone?.status}`);
  // svc1 reported READY at the current revision: its create and update are done.
  const svcOp = await waitOperation(svc.body.id, admin);
  if (svcOp?.status !== 'succeeded' || svcOp?.result?.name !== 'svc1') violation(`service.create of svc1 ended ${svcOp?.status}`);
  const updOp = await waitOperation(upd.body.id, admin);
  if (updOp?.status !== 'succeeded') violation(`service.update of svc1 ended ${updOp?.status}`);

  // Renewal: a certificate for a new key; the replaced one keeps working until the new one is used.
  const renew = { method: 'POST', template: '/v1/agent/renew', cert: rejoined.body?.certificate, key: second.key };
  const third = csr(s.scratch, 'agent3');
  const renewed = await call('agent renew', { ...renew, json: { csr: third.csr }, expect: 200 });
  if (!renewed.body?.certificate?.startsWith('-----BEGIN CERTIFICATE-----')) violation('agent renew gave no certificate');
  await call('agent renew no certificate', {
    ...renew, cert: undefined, key: undefined, json: { csr: third.csr }, expect: 401, bodyValid: true,
  });
  await call('agent renew revoked certificate', {
    ...renew, cert: joined.body?.certificate, key: first.key, json: { csr: third.csr }, expect: 401, bodyValid: true,
  });
  await call('agent renew bad csr', { ...renew, json: { csr: 'not a csr' }, expect: 422, bodyValid: true });
  await call('agent renew extra field', {
    ...renew, json: { csr: third.csr, name: 'x' }, expect: 400, bodyValid: false,
  });
  await call('agent renew invalid JSON', { ...renew, raw: '{', contentType: 'application/json', expect: 400 });
  await call('agent renew too large', { ...renew, oversize: TOO_LARGE, expect: 413 });
  await call('agent renew wrong media type', {
    ...renew, raw: JSON.stringify({ csr: third.csr }), contentType: 'text/plain', expect: 415,
  });
  await checkMethodNotAllowed('/v1/agent/renew', {});
  await call('agent sync with the replaced certificate', {
    ...current, json: { protocol_version: 1, known_revision: 0, seq: 3 }, expect: 200,
  });
  const newest = { ...sync, cert: renewed.body?.certificate, key: third.key };
  await call('agent sync with the renewed certificate', {
    ...newest, json: { protocol_version: 1, known_revision: 0, seq: 4 }, expect: 200,
  });
  await call('agent sync with the replaced certificate after', {
    ...current, json: { protocol_version: 1, known_revision: 0, seq: 5 }, expect: 401, bodyValid: true,
  });

  const usage = { method: 'GET', template: '/v1/environments/{env}/usage', params: { env: 'ext1' } };
  const totals = await call('usage', { ...usage, token: admin, expect: 200 });
  if (totals.body?.intervals !== 1 || totals.body?.cpu_millis_seconds !== 60000)
    violation(`usage of ext1 should count the one reported interval: ${JSON.stringify(totals.body)}`);
  await call('usage as operator', { ...usage, token: oper, expect: 200 });
  await call('usage other org as customer', { ...usage, token: cust, expect: 404 });
  await call('usage unknown env', { ...usage, params: { env: 'nope' }, token: admin, expect: 404 });
  await call('usage no token', { ...usage, expect: 401 });
  await checkMethodNotAllowed('/v1/environments/{env}/usage', { env: 'ext1' });

  console.log('versions and upgrades');
  const versions = { method: 'POST', template: '/v1/versions', token: admin };
  const published = await call('publish version', {
    ...versions, json: { kind: 'clickhouse', name: '18.16.1-r2', published_at: '2026-01-02T00:00:00Z' }, expect: 201,
  });
  if (!published.body?.published_by) violation(`publish version names no publisher: ${JSON.stringify(published.body)}`);
  await call('publish version again', { ...versions, json: { kind: 'clickhouse', name: '18.16.1-r2' }, expect: 409 });
  await call('publish version as operator', { ...versions, token: oper, json: { kind: 'eks', name: '1.33' }, expect: 403 });
  await call('publish version as customer', { ...versions, token: cust, json: { kind: 'eks', name: '1.33' }, expect: 403 });
  await call('publish version ahead', {
    ...versions, json: { kind: 'eks', name: '1.34', published_at: '2999-01-01T00:00:00Z' }, expect: 422, bodyValid: true,
  });
  await call('publish version bad kind', { ...versions, json: { kind: 'mysql', name: '8' }, expect: 422, bodyValid: false });
  await call('publish version bad name', { ...versions, json: { kind: 'eks', name: 'a b' }, expect: 422, bodyValid: false });
  await badBodies('publish version', versions, { kind: 'eks', name: '1.33' });
  const versionList = { method: 'GET', template: '/v1/versions' };
  const versionsListed = await call('list versions', { ...versionList, token: cust, expect: 200 });
  if (!versionsListed.body?.items?.some((v) => v.name === '18.16.1-r2')) violation('the published version is not listed');
  await call('list versions no token', { ...versionList, expect: 401 });
  await checkMethodNotAllowed('/v1/versions', {});

  // The upgrade controller opens an upgrade of ext1's service to it.
  const upgrades = { method: 'GET', template: '/v1/environments/{env}/upgrades', params: { env: 'ext1' } };
  let upgrade;
  for (const deadline = Date.now() + 30_000; !upgrade && Date.now() < deadline;) {
    const list = await call('list upgrades', { ...upgrades, token: oper, expect: 200 });
    upgrade = list.body?.items?.find((u) => u.service === 'svc1' && u.state === 'pending');
    if (!upgrade) await new Promise((res) => setTimeout(res, 100));
  }
  if (!upgrade) throw new Error('no upgrade of svc1 was opened within 30 s of publishing a version');
  if (upgrade.to_version !== '18.16.1-r2' || upgrade.from_version !== '18.16.1')
    violation(`the upgrade opened: ${JSON.stringify(upgrade)}`);
  await call('list upgrades other org as customer', { ...upgrades, token: cust, expect: 404 });
  await call('list upgrades unknown env', { ...upgrades, params: { env: 'nope' }, token: admin, expect: 404 });
  await call('list upgrades no token', { ...upgrades, expect: 401 });
  await checkMethodNotAllowed('/v1/environments/{env}/upgrades', { env: 'ext1' });
  const act = (action) => ({
    method: 'POST', template: `/v1/environments/{env}/upgrades/{id}/${action}`, params: { env: 'ext1', id: upgrade.id }, token: admin,
  });
  const deferred = await call('defer upgrade', { ...act('defer'), json: { days: 3 }, expect: 200 });
  if (!deferred.body?.deferred_until) violation(`defer: ${JSON.stringify(deferred.body)}`);
  await call('defer upgrade twice', { ...act('defer'), json: { days: 3 }, expect: 409, bodyValid: true });
  await call('defer upgrade too long', { ...act('defer'), json: { days: 15 }, expect: 422, bodyValid: false });
  await call('defer upgrade without days', { ...act('defer'), json: {}, expect: 422, bodyValid: false });
  await call('defer upgrade as operator', { ...act('defer'), token: oper, json: { days: 1 }, expect: 403 });
  await badBodies('defer upgrade', act('defer'), { days: 2 });
  await call('resume a pending upgrade', { ...act('resume'), expect: 409 });
  const paused = await call('pause upgrade', { ...act('pause'), expect: 200 });
  if (paused.body?.state !== 'paused') violation(`pause: ${JSON.stringify(paused.body)}`);
  await call('pause upgrade twice', { ...act('pause'), json: {}, expect: 409 });
  const resumed = await call('resume upgrade', { ...act('resume'), json: {}, expect: 200 });
  if (resumed.body?.state !== 'pending') violation(`resume: ${JSON.stringify(resumed.body)}`);
  const started = await call('start upgrade', { ...act('start'), expect: 200 });
  if (started.body?.started !== true) violation(`start: ${JSON.stringify(started.body)}`);
  await call('start upgrade with a field', { ...act('start'), json: { now: true }, expect: 422, bodyValid: false });
  await call('start upgrade unknown', { ...act('start'), params: { env: 'ext1', id: 'upg-0000000000000000' }, expect: 404 });
  for (const action of ['start', 'pause', 'resume']) {
    await call(`${action} upgrade as operator`, { ...act(action), token: oper, expect: 403 });
    await call(`${action} upgrade with a field`, { ...act(action), json: { x: 1 }, expect: 422, bodyValid: false });
  }
  // A newer version supersedes the pending upgrade: it can't be started any more.
  await call('publish a newer version', { ...versions, json: { kind: 'clickhouse', name: '18.16.1-r3' }, expect: 201 });
  let superseded = false;
  for (const deadline = Date.now() + 30_000; !superseded && Date.now() < deadline;) {
    const list = await call('list upgrades after a newer version', { ...upgrades, token: admin, expect: 200 });
    superseded = list.body?.items?.some((u) => u.id === upgrade.id && u.state === 'superseded');
    if (!superseded) await new Promise((res) => setTimeout(res, 100));
  }
  if (!superseded) violation('a pending upgrade was not superseded by a newer version within 30 s');
  await call('start a superseded upgrade', { ...act('start'), expect: 409 });
  for (const action of ['start', 'pause', 'resume', 'defer']) {
    await call(`${action} upgrade no token`, { ...act(action), token: undefined, expect: 401 });
    await call(`${action} upgrade unknown env`, { ...act(action), params: { env: 'nope', id: upgrade.id }, expect: 404 });
    await checkMethodNotAllowed(`/v1/environments/{env}/upgrades/{id}/${action}`, { env: 'ext1', id: upgrade.id });
  }
  for (const action of ['start', 'pause', 'resume']) {
    await call(`${action} upgrade bad body`, { ...act(action), raw: '{"x": ', contentType: 'application/json', expect: 400 });
    await call(`${action} upgrade wrong media type`, { ...act(action), raw: '{}', contentType: 'text/plain', expect: 415 });
    await call(`${action} upgrade too large`, { ...act(action), oversize: TOO_LARGE, expect: 413 });
  }

  console.log('audit logs');
  const auditKey = { method: 'GET', template: '/v1/audit/key' };
  const key = await call('audit key', { ...auditKey, token: cust, expect: 200 });
  if (!key.body?.verifier_key?.startsWith('byoc-audit+')) violation(`audit key: ${JSON.stringify(key.body)}`);
  await call('audit key no token', { ...auditKey, expect: 401 });
  await checkMethodNotAllowed('/v1/audit/key', {});
  const logs = [
    { base: '/v1/environments/{env}/audit', params: { env: 'ext1' }, reader: oper, outsider: cust, refused: 404 },
    { base: '/v1/audit', params: {}, reader: admin, outsider: oper, refused: 403 },
  ];
  for (const log of logs) {
    const list = { method: 'GET', template: log.base, params: log.params };
    const page = await call(`audit ${log.base}`, { ...list, token: log.reader, expect: 200 });
    const size = page.body?.size ?? 0;
    if (size < 2 || page.body?.items?.length !== Math.min(size, 100))
      violation(`audit ${log.base}: expected the first entries of a log of at least 2: ${JSON.stringify(page.body)?.slice(0, 300)}`);
    await call(`audit ${log.base} page`, { ...list, token: admin, query: { start: 1, limit: 1 }, expect: 200 });
    await call(`audit ${log.base} limit 0`, { ...list, token: admin, query: { limit: 0 }, expect: 400 });
    await call(`audit ${log.base} outsider`, { ...list, token: log.outsider, expect: log.refused });
    await call(`audit ${log.base} no token`, { ...list, expect: 401 });
    await checkMethodNotAllowed(log.base, log.params);

    const checkpoint = { method: 'GET', template: `${log.base}/checkpoint`, params: log.params };
    const note = await call(`audit ${log.base} checkpoint`, { ...checkpoint, token: log.reader, expect: 200 });
    if (!/^byoc\.audit\/[0-9a-f]{16}\/.+\n\d+\n[A-Za-z0-9+/]{43}=\n\n\u2014 byoc-audit /.test(note.text ?? ''))
      violation(`audit ${log.base} checkpoint is not a signed tlog-checkpoint: ${note.text}`);
    await call(`audit ${log.base} checkpoint outsider`, { ...checkpoint, token: log.outsider, expect: log.refused });
    await call(`audit ${log.base} checkpoint no token`, { ...checkpoint, expect: 401 });
    await checkMethodNotAllowed(`${log.base}/checkpoint`, log.params);

    const inclusion = { method: 'GET', template: `${log.base}/proof/inclusion`, params: log.params };
    await call(`audit ${log.base} inclusion`, { ...inclusion, token: log.reader, query: { index: 0, size }, expect: 200 });
    await call(`audit ${log.base} inclusion past the end`, {
      ...inclusion, token: admin, query: { index: size, size }, expect: 400,
    });
    await call(`audit ${log.base} inclusion outsider`, {
      ...inclusion, token: log.outsider, query: { index: 0, size }, expect: log.refused,
    });
    await call(`audit ${log.base} inclusion no token`, { ...inclusion, query: { index: 0, size }, expect: 401 });
    await checkMethodNotAllowed(`${log.base}/proof/inclusion`, log.params);

    const consistency = { method: 'GET', template: `${log.base}/proof/consistency`, params: log.params };
    await call(`audit ${log.base} consistency`, {
      ...consistency, token: log.reader, query: { first: 1, second: size }, expect: 200,
    });
    await call(`audit ${log.base} consistency beyond the log`, {
      ...consistency, token: admin, query: { first: 1, second: size + 1 }, expect: 400,
    });
    await call(`audit ${log.base} consistency outsider`, {
      ...consistency, token: log.outsider, query: { first: 1, second: size }, expect: log.refused,
    });
    await call(`audit ${log.base} consistency no token`, { ...consistency, query: { first: 1, second: size }, expect: 401 });
    await checkMethodNotAllowed(`${log.base}/proof/consistency`, log.params);
  }
  await call('audit unknown env', {
    method: 'GET', template: '/v1/environments/{env}/audit', params: { env: 'nope' }, token: admin, expect: 404,
  });

  console.log('access requests');
  const accessRequests = { method: 'POST', template: '/v1/environments/{env}/access-requests', params: { env: 'ext1' } };
  const engineer = csr(s.scratch, 'engineer');
  const ask = { scope: 'clickhouse-system', reason: 'replica 2 is read-only', duration_seconds: 3600, csr: engineer.csr };
  const asked = await call('access request', {
    ...accessRequests, token: oper, json: ask, headers: { 'Idempotency-Key': 'acc-1' }, expect: 201,
  });
  const askedAgain = await call('access request replay', {
    ...accessRequests, token: oper, json: ask, headers: { 'Idempotency-Key': 'acc-1' }, expect: 201,
  });
  if (askedAgain.body?.id !== asked.body?.id) violation('a replayed access request answered another request');
  if (asked.body?.state !== 'PENDING') violation(`a new access request is ${asked.body?.state}`);
  await call('access request as admin', { ...accessRequests, token: admin, json: ask, expect: 403 });
  await call('access request as customer', { ...accessRequests, token: cust, json: ask, expect: 403 });
  await call('access request unknown env', { ...accessRequests, params: { env: 'nope' }, token: oper, json: ask, expect: 404 });
  await call('access request too long', {
    ...accessRequests, token: oper, json: { ...ask, duration_seconds: 30 * 24 * 3600 }, expect: 422, bodyValid: true,
  });
  await call('access request bad scope', { ...accessRequests, token: oper, json: { ...ask, scope: 'root' }, expect: 422, bodyValid: false });
  await badBodies('access request', { ...accessRequests, token: oper }, ask);
  await checkMethodNotAllowed('/v1/environments/{env}/access-requests', { env: 'ext1' });

  const listAccess = { method: 'GET', template: '/v1/environments/{env}/access-requests', params: { env: 'ext1' } };
  const pendingList = await call('list access requests', { ...listAccess, token: appr, query: { state: 'PENDING' }, expect: 200 });
  if (!pendingList.body?.items?.some((r) => r.id === asked.body?.id)) violation('the pending request is not listed');
  await call('list access requests by requester', {
    ...listAccess, token: admin, query: { requester: 'oncall@vendor.example', since: '2020-01-01T00:00:00Z' }, expect: 200,
  });
  await call('list access requests bad state', { ...listAccess, token: admin, query: { state: 'open' }, expect: 400 });
  await call('list access requests other org', { ...listAccess, token: cust, expect: 404 });
  await call('list access requests no token', { ...listAccess, expect: 401 });

  const accessId = asked.body?.id;
  const oneAccess = { method: 'GET', template: '/v1/access-requests/{id}', params: { id: accessId } };
  await call('get access request', { ...oneAccess, token: oper, expect: 200 });
  await call('get access request other org', { ...oneAccess, token: cust, expect: 404 });
  await call('get access request unknown', { ...oneAccess, params: { id: 'acc-0000000000000000' }, token: admin, expect: 404 });
  await call('get access request no token', { ...oneAccess, expect: 401 });
  await checkMethodNotAllowed('/v1/access-requests/{id}', { id: accessId });

  const certificate = { method: 'GET', template: '/v1/access-requests/{id}/certificate', params: { id: accessId } };
  await call('access certificate pending', { ...certificate, token: oper, expect: 409 });
  await call('access certificate not the requester', { ...certificate, token: appr, expect: 403 });
  await call('access certificate other org', { ...certificate, token: cust, expect: 404 });
  await call('access certificate no token', { ...certificate, expect: 401 });
  await checkMethodNotAllowed('/v1/access-requests/{id}/certificate', { id: accessId });

  const reviews = { method: 'POST', template: '/v1/access-requests/{id}/reviews', params: { id: accessId } };
  const approve = { decision: 'approve', reason: 'ticket INC-42' };
  await call('review as operator', { ...reviews, token: oper, json: approve, expect: 403 });
  await call('review other org', { ...reviews, token: cust, json: approve, expect: 404 });
  await call('review bad decision', { ...reviews, token: appr, json: { ...approve, decision: 'maybe' }, expect: 422, bodyValid: false });
  await badBodies('review', { ...reviews, token: appr }, approve);
  const approved = await call('review approve', { ...reviews, token: appr, json: approve, expect: 200 });
  if (approved.body?.state !== 'APPROVED' || !approved.body?.not_after) violation(`an approved request: ${JSON.stringify(approved.body)}`);
  await call('review after approval', { ...reviews, token: appr, json: approve, expect: 409 });
  await checkMethodNotAllowed('/v1/access-requests/{id}/reviews', { id: accessId });

  const revoke = { method: 'POST', template: '/v1/access-requests/{id}/revoke', params: { id: accessId } };
  await call('revoke as operator', { ...revoke, token: oper, json: {}, expect: 403 });
  await call('revoke other org', { ...revoke, token: cust, json: {}, expect: 404 });
  await badBodies('revoke', { ...revoke, token: appr }, {});
  const revoked = await call('revoke', { ...revoke, token: appr, json: {}, expect: 200 });
  if (revoked.body?.state !== 'REVOKED') violation(`a revoked request is ${revoked.body?.state}`);
  await call('revoke again', { ...revoke, token: admin, expect: 409 });
  await call('access certificate revoked', { ...certificate, token: oper, expect: 410 });
  await checkMethodNotAllowed('/v1/access-requests/{id}/revoke', { id: accessId });

  const toFinish = await call('access request to finish', { ...accessRequests, token: oper, json: ask, expect: 201 });
  const done = { method: 'POST', template: '/v1/access-requests/{id}/done', params: { id: toFinish.body?.id } };
  await call('done by an approver', { ...done, token: appr, json: {}, expect: 403 });
  await call('done unknown', { ...done, params: { id: 'acc-0000000000000000' }, token: oper, json: {}, expect: 404 });
  await badBodies('done', { ...done, token: oper }, {});
  const finished = await call('done', { ...done, token: oper, expect: 200 });
  if (finished.body?.state !== 'DONE') violation(`a finished request is ${finished.body?.state}`);
  await call('done again', { ...done, token: oper, expect: 409 });
  await checkMethodNotAllowed('/v1/access-requests/{id}/done', { id: toFinish.body?.id });

  console.log('clouds and retries');
  const clouds = { method: 'GET', template: '/v1/clouds' };
  const cloudList = await call('list clouds', { ...clouds, token: cust, expect: 200 });
  for (const name of ['local', 'external', 'aws'])
    if (!cloudList.body?.items?.some((c) => c.name === name)) violation(`GET /v1/clouds does not list ${name}`);
  await call('list clouds no token', { ...clouds, expect: 401 });
  await checkMethodNotAllowed('/v1/clouds', {});
  const retry = { method: 'POST', template: '/v1/environments/{env}/retry', params: { env: 'ext1' }, token: admin };
  await call('retry a READY env', { ...retry, expect: 409 });
  await call('retry as operator', { ...retry, token: oper, expect: 403 });
  await call('retry unknown env', { ...retry, params: { env: 'nope' }, expect: 404 });
  await call('retry no token', { ...retry, token: undefined, expect: 401 });
  await checkMethodNotAllowed('/v1/environments/{env}/retry', { env: 'ext1' });

  console.log('environment deletion');
  const delEnv = { method: 'DELETE', template: '/v1/environments/{env}', params: { env: 'ext1' }, token: admin };
  await call('delete env with services', { ...delEnv, expect: 409 });
  await call('delete env as operator', { ...delEnv, token: oper, expect: 403 });
  await call('delete env unknown', { ...delEnv, params: { env: 'nope' }, expect: 404 });
  await call('delete env no token', { ...delEnv, token: undefined, expect: 401 });
  const goneToken = await call('join token of env to delete', {
    ...join, params: { env: 'gone' }, json: {}, expect: 201,
  });
  const gone = await call('delete env', { ...delEnv, params: { env: 'gone' }, expect: 202 });
  // While the delete is not yet reconciled the environment is DELETING (409),
  // after it is gone (404): which one a request sees is a race.
  await call('join token while deleting', { ...join, params: { env: 'gone' }, json: {}, expect: [409, 404] });
  await call('patch while deleting', {
    ...patch, params: { env: 'gone' }, json: {}, expect: [409, 404], bodyValid: true,
  });
  await call('create service while deleting', {
    ...svcs, params: { env: 'gone' }, json: { name: 'late' }, expect: [409, 404],
  });
  await call('put maintenance while deleting', {
    method: 'PUT', template: '/v1/environments/{env}/maintenance', params: { env: 'gone' }, token: admin,
    json: { channel: 'fast' }, expect: [409, 404],
  });
  const goneOp = await waitOperation(gone.body?.id, admin);
  if (goneOp?.status !== 'succeeded' || goneOp?.result !== null) violation('environment.delete should succeed with a null result');
  await call('get deleted env', { ...one, params: { env: 'gone' }, token: admin, expect: 404 });
  await call('agent join of a deleted env', {
    ...agentJoin, json: { token: goneToken.body?.token, csr: second.csr }, expect: 401, bodyValid: true,
  });
  // The failed join with a bad CSR did not use its token up.
  await call('agent join after a failed one', {
    ...agentJoin, json: { token: jt2.body.token, csr: second.csr }, expect: 200,
  });
  await checkMethodNotAllowed('/v1/environments/{env}/join-tokens', { env: 'ext1' });
  await checkMethodNotAllowed('/healthz', {});
  for (const template of ['/healthz', '/v1/openapi.json'])
    await call(`${template} with a broken escape`, { method: 'GET', template, rawQuery: 'x=%ff', expect: 400 });
  await checkMethodNotAllowed('/v1/openapi.json', {});
  await checkMethodNotAllowed('/metrics', {});
}

// ---------------------------------------------------------------------------
// Coverage.

function report() {
  console.log('\ncoverage (route → statuses seen; ! = documented, never reached)');
  const neverExercised = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
      const route = `${method.toUpperCase()} ${p}`;
      const parts = [];
      let any = false;
      for (const status of Object.keys(item[method].responses)) {
        const n = coverage.get(`${route} ${status}`) ?? 0;
        any ||= n > 0;
        if (n > 0) {
          parts.push(`${status}×${n}`);
        } else if (UNREACHABLE[`${route} ${status}`]) {
          parts.push(`${status}(unreachable)`);
        } else {
          parts.push(`!${status}`);
          violation(`${route} ${status} is documented but no case reached it`);
        }
      }
      if (!any) neverExercised.push(route);
      console.log(`  ${route.padEnd(52)} ${parts.join(' ')}`);
    }
    const mna = methodNotAllowed.get(p);
    if (!mna) violation(`${p}: the 405 answer for undocumented methods was never checked`);
  }
  for (const route of neverExercised) violation(`${route} was never exercised`);
  for (const key of Object.keys(UNREACHABLE)) {
    const [method, p, status] = key.split(' ');
    if (!doc.paths[p]?.[method.toLowerCase()]?.responses?.[status]) continue;
    if (coverage.get(`${method} ${p} ${status}`)) notes.push(`${key} was reached after all (${UNREACHABLE[key]})`);
  }
  for (const [key, reason] of Object.entries(UNREACHABLE))
    if (!coverage.get(key.split(' ').slice(0, 3).join(' '))) console.log(`  unreachable here: ${key}: ${reason}`);
}

// ---------------------------------------------------------------------------

const binary = process.env.BYOC_BINARY;
if (!binary || !fs.existsSync(binary)) {
  console.error('conformance: set BYOC_BINARY to the built byoc executable');
  process.exit(2);
}

console.log(`document ${path.relative(repo, docPath)}`);
checkDocument();
const fromSource = sourceRoutes();
const fromDoc = documentedRoutes();
for (const r of fromSource) if (!fromDoc.has(r)) violation(`route ${r} is registered in src/server but not documented`);
for (const r of fromDoc) if (!fromSource.has(r)) violation(`route ${r} is documented but src/server registers no such route`);

const server = new Server(binary);
const onSignal = (signal) => {
  server.stopNow();
  process.exit(signal === 'SIGINT' ? 130 : 143);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  await server.start();
  console.log(`server on https://${server.host}:${server.port} (pid ${server.child.pid})`);
  await scenarios(server);
} catch (e) {
  violation(`aborted: ${e.stack ?? e}`);
  const log = server.log();
  if (log) console.log(`server log (tail):\n${log}`);
} finally {
  await server.stop();
}
report();

for (const n of notes) console.log(`note: ${n}`);
console.log(`\n${calls} requests checked against ${fromDoc.size} documented routes`);
if (violations.length) {
  console.log(`\n${violations.length} violation(s):`);
  for (const v of violations) console.log(`  - ${v}`);
  process.exit(1);
}
console.log('openapi conformance: all answers match the document');
