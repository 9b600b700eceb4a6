// Checks rendered CloudFormation templates against the CloudFormation
// resource provider schemas vendored in vectors/cfn-schemas (see
// vectors/SOURCES.md): each resource's Properties against its type's schema
// (draft-07 plus CloudFormation keywords, which ajv ignores here), no
// read-only property set, byoc=true on every type the schema calls
// taggable, and only the resource attributes CloudFormation knows. A type
// whose schema isn't vendored is an error.
//
//   node cfn_validate.mjs [--schemas DIR] TEMPLATE.json|DIR ...
//
// Intrinsic functions ({"Ref": …}, {"Fn::…": …}) are accepted wherever the
// schema expects a value: CloudFormation resolves them before the provider
// validates. Format checking is off (cfn-lint patches in custom formats).
// ajv comes from tests/openapi/node_modules (scripts/setup.sh).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'openapi', 'package.json'));
const ajvModule = require('ajv');
const Ajv = ajvModule.default ?? ajvModule;

const args = process.argv.slice(2);
let schemaDir = path.join(here, 'vectors', 'cfn-schemas');
const inputs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--schemas') schemaDir = args[++i];
  else inputs.push(args[i]);
}
if (inputs.length === 0) {
  console.error('usage: node cfn_validate.mjs [--schemas DIR] TEMPLATE.json|DIR ...');
  process.exit(2);
}
const files = inputs.flatMap((p) =>
  fs.statSync(p).isDirectory()
    ? fs.readdirSync(p).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(p, f))
    : [p]);
if (files.length === 0) {
  console.error(`no templates in ${inputs.join(' ')}`);
  process.exit(1);
}

const intrinsic = {
  type: 'object', minProperties: 1, maxProperties: 1,
  propertyNames: { pattern: '^(Ref|Fn::[A-Za-z0-9]+)$' },
};
// Wraps every value-position subschema so an intrinsic function passes too.
function admitIntrinsics(schema) {
  if (Array.isArray(schema)) return schema.map(admitIntrinsics);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' || key === 'patternProperties' || key === 'definitions') {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrap(v)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = Array.isArray(value) ? value.map(wrap) : wrap(value);
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      out[key] = value.map(admitIntrinsics);
    } else {
      out[key] = admitIntrinsics(value);
    }
  }
  return out;
}
function wrap(subschema) {
  if (subschema === null || typeof subschema !== 'object') return subschema;
  return { anyOf: [intrinsic, admitIntrinsics(subschema)] };
}

// The schemas' patterns are written for Python (cfn-lint): \A and \Z are
// its anchors; \p{…} classes need JavaScript's unicode mode.
function pythonRegExp(pattern, flags) {
  const js = pattern.replaceAll('\\Z', '$').replaceAll('\\A', '^');
  try {
    return new RegExp(js, (flags ?? '') + 'u');
  } catch {
    return new RegExp(js, flags ?? '');
  }
}
pythonRegExp.code = 'pythonRegExp';
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: pythonRegExp } });
const validators = new Map();
function schemaFor(type) {
  if (validators.has(type)) return validators.get(type);
  const file = path.join(schemaDir, type.toLowerCase().replaceAll('::', '-') + '.json');
  let entry = null;
  if (fs.existsSync(file)) {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    const { $schema, $id, ...rest } = raw;
    // Properties only: the resource's own shape, with #/definitions refs.
    const schema = admitIntrinsics({
      type: 'object',
      properties: rest.properties,
      definitions: rest.definitions ?? {},
      required: rest.required ?? [],
      additionalProperties: rest.additionalProperties ?? false,
      ...(rest.oneOf ? { oneOf: rest.oneOf } : {}),
      ...(rest.anyOf ? { anyOf: rest.anyOf } : {}),
      ...(rest.allOf ? { allOf: rest.allOf } : {}),
    });
    entry = {
      validate: ajv.compile(schema),
      readOnly: (rest.readOnlyProperties ?? []).map((p) => p.replace(/^\/properties\//, '')),
      tagging: rest.tagging ?? {},
    };
  }
  validators.set(type, entry);
  return entry;
}

function hasByocTag(tags) {
  if (Array.isArray(tags)) return tags.some((t) => t && t.Key === 'byoc' && t.Value === 'true');
  if (tags && typeof tags === 'object') return tags.byoc === 'true';
  return false;
}

const attributes = new Set(['Type', 'Properties', 'DependsOn', 'Condition', 'DeletionPolicy',
  'UpdateReplacePolicy', 'Metadata']);
const types = new Set();
let checked = 0;

// The problems of one template, each "<template> <resource> (<type>): …".
function check(tmpl, name) {
  const problems = [];
  for (const [logical, resource] of Object.entries(tmpl.Resources ?? {})) {
    const fail = (message) => problems.push(`${name} ${logical} (${resource.Type}): ${message}`);
    for (const key of Object.keys(resource)) if (!attributes.has(key)) fail(`unknown resource attribute ${key}`);
    const schema = schemaFor(resource.Type);
    if (!schema) {
      fail(`no schema vendored for ${resource.Type} in ${schemaDir}`);
      continue;
    }
    types.add(resource.Type);
    checked++;
    const props = resource.Properties ?? {};
    if (!schema.validate(props)) {
      const errors = schema.validate.errors;
      // The intrinsic branch of each anyOf "fails" beside the real error;
      // show the real ones (or everything, if that leaves nothing).
      const real = errors.filter((e) => !e.schemaPath.includes('/anyOf/0/') && e.keyword !== 'anyOf');
      for (const e of real.length ? real : errors)
        fail(`${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    }
    for (const p of schema.readOnly) if (!p.includes('/') && p in props) fail(`sets read-only property ${p}`);
    if (schema.tagging.taggable) {
      const tagProperty = (schema.tagging.tagProperty ?? '/properties/Tags').replace(/^\/properties\//, '');
      if (!hasByocTag(props[tagProperty])) fail(`taggable, but ${tagProperty} lacks byoc=true`);
    }
  }
  return problems;
}

// Before trusting a pass: each kind of mistake, made on purpose in a copy of
// the first template, must be reported.
function selfTest(tmpl) {
  const mistakes = {
    'unknown property': (t) => { t.Resources.Vpc.Properties.CidrBlocks = '10.0.0.0/16'; },
    'wrong type': (t) => { t.Resources.Vpc.Properties.EnableDnsSupport = 'yes'; },
    'bad enum': (t) => { t.Resources.VpcCniAddon.Properties.ResolveConflicts = 'SOMETIMES'; },
    'pattern': (t) => { t.Resources.Cluster.Properties.Name = ' has space'; },
    'missing required': (t) => { delete t.Resources.Cluster.Properties.RoleArn; },
    'nested $ref': (t) => { t.Resources.Cluster.Properties.Logging.ClusterLogging.EnabledTypes[0].Type = 'everything'; },
    'read-only': (t) => { t.Resources.Vpc.Properties.VpcId = 'vpc-1'; },
    'untagged': (t) => { t.Resources.BackupBucket.Properties.Tags = []; },
    'unknown type': (t) => { t.Resources.Vpc.Type = 'AWS::EC2::Nothing'; },
    'unknown attribute': (t) => { t.Resources.Vpc.DependOn = 'InternetGateway'; },
  };
  let missed = 0;
  for (const [what, mistake] of Object.entries(mistakes)) {
    const copy = structuredClone(tmpl);
    mistake(copy);
    const problems = check(copy, `self-test(${what})`);
    if (process.env.CFN_VALIDATE_VERBOSE) console.log(problems.join("\n"));
    if (problems.length === 0) {
      missed++;
      console.error(`FAIL self-test: a template with a ${what} mistake passed`);
    }
  }
  console.log(`cfn_validate self-test: ${Object.keys(mistakes).length - missed} of ${Object.keys(mistakes).length} ` +
    'planted mistakes caught');
  return missed;
}

let failures = 0;
const templates = files.map((f) => [path.basename(f), JSON.parse(fs.readFileSync(f, 'utf8'))]);
const withNetwork = templates.find(([, t]) => t.Resources?.Vpc && t.Resources?.Cluster);
if (!withNetwork) {
  console.error('FAIL no infra template with a VPC to self-test on');
  failures++;
} else {
  failures += selfTest(withNetwork[1]);
}
types.clear();
checked = 0;
for (const [name, tmpl] of templates) {
  for (const problem of check(tmpl, name)) {
    failures++;
    console.error(`FAIL ${problem}`);
  }
}
console.log(`cfn_validate: ${checked} resources of ${types.size} types in ${templates.length} templates checked, ` +
  `${failures} problems`);
process.exit(failures ? 1 : 0);
