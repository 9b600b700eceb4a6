// Validates Kubernetes objects with kubernetes-models (the Kubernetes 1.33
// OpenAPI schemas as JSON Schema; pinned in package-lock.json, installed by
// scripts/setup.sh): each item of each List file given, by the model class
// of its apiVersion and kind.
//
//   node validate.js LIST.json ...
//
// Exits 0 when every item validates; otherwise prints one line per failure
// ("FILE: Kind name: what") and exits 1. An apiVersion/kind it has no model
// for, a file that is no List, an item without metadata.name: failures too.
// What the schemas can't say (unknown fields pass) the C++ tests check.
'use strict';
const fs = require('node:fs');

// "apps/v1" → "apps/v1"; the core group "v1" → "v1".
function modelOf(apiVersion, kind) {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
  try {
    return require(`kubernetes-models/${apiVersion}/${kind}`)[kind] ?? null;
  } catch (e) {
    if (e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`kubernetes-models/${apiVersion}/${kind}`)) return null;
    throw e;
  }
}

// The failures of one List file, and how many items it has.
function validateList(file) {
  const failures = [];
  let list;
  try {
    list = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { failures: [`${file}: not readable JSON: ${e.message}`], items: 0 };
  }
  if (list?.apiVersion !== 'v1' || list?.kind !== 'List' || !Array.isArray(list.items))
    return { failures: [`${file}: not a {"apiVersion":"v1","kind":"List","items":[…]}`], items: 0 };
  if (list.items.length === 0) return { failures: [`${file}: the List has no item`], items: 0 };
  list.items.forEach((item, i) => {
    const name = item?.metadata?.name;
    const what = `${file}: ${item?.kind ?? '(no kind)'} ${name ?? `items[${i}]`}`;
    if (typeof name !== 'string' || name === '') {
      failures.push(`${what}: no metadata.name`);
      return;
    }
    const Model = modelOf(item.apiVersion, item.kind);
    if (!Model) {
      failures.push(`${what}: no kubernetes-models class for ${item.apiVersion} ${item.kind}`);
      return;
    }
    try {
      new Model(item).validate();
    } catch (e) {
      failures.push(`${what}: ${e.message}`);
    }
  });
  return { failures, items: list.items.length };
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate.js LIST.json ...');
  process.exit(2);
}
let items = 0;
const failures = files.flatMap((file) => {
  const result = validateList(file);
  items += result.items;
  return result.failures;
});
for (const f of failures) console.error(f);
if (failures.length > 0) process.exit(1);
console.log(`${items} objects in ${files.length} file(s) validate (kubernetes-models ${require('kubernetes-models/package.json').version})`);
