// Fails when the settings package.json contributes drift from the server's schema
// (server/src/config/options.rs): a field added, renamed or retyped on one side only.
// The binary cannot print its schema yet, so the Rust source is the reference.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { EXTENSION_ONLY_KEYS, SECRET_KEYS, schemaKeys } from '../out/settings.js';

const here = new URL('.', import.meta.url);
const optionsRs = readFileSync(new URL('../../../server/src/config/options.rs', here), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../package.json', here), 'utf8'));
const properties = pkg.contributes.configuration.properties;

/** struct name → [[field, rust type]] for every `pub struct … { … }` in the file. */
function structs(source) {
  const out = new Map();
  for (const m of source.matchAll(/pub struct (\w+)\s*\{([^}]*)\}/g)) {
    const fields = [];
    for (const f of m[2].matchAll(/^\s*pub (\w+):\s*([^\n]+?),?\s*$/gm)) {
      fields.push([f[1], f[2].replace(/,$/, '')]);
    }
    out.set(m[1], fields);
  }
  return out;
}

/** `section.field` → JSON type, following the top-level `Options` struct into its sections. */
function serverSchema(source) {
  const all = structs(source);
  const top = all.get('Options');
  assert.ok(top && top.length > 0, 'options.rs has no `pub struct Options`');
  const schema = new Map();
  for (const [section, structName] of top) {
    const fields = all.get(structName);
    assert.ok(fields, `options.rs: section ${section} names ${structName}, which was not found`);
    for (const [field, rustType] of fields) {
      schema.set(`${section}.${field}`, jsonType(rustType, `${section}.${field}`));
    }
  }
  return schema;
}

function jsonType(rustType, key) {
  const inner = /^Option<(.+)>$/.exec(rustType)?.[1];
  assert.ok(inner, `${key}: every schema field is optional, found ${rustType}`);
  if (/^(u8|u16|u32|u64|usize|i8|i16|i32|i64|isize)$/.test(inner)) return 'integer';
  if (/^f(32|64)$/.test(inner)) return 'number';
  if (inner === 'bool') return 'boolean';
  if (inner === 'String' || inner === 'PathBuf') return 'string';
  if (inner === 'Secret') return 'secret';
  if (/^Vec<String>$/.test(inner)) return 'array';
  if (/(BTreeMap|HashMap)<String,\s*String>$/.test(inner)) return 'object';
  assert.fail(`${key}: no JSON type known for Rust type ${inner}; teach this test`);
}

function contributedType(property) {
  const types = [property.type].flat().filter((t) => t !== 'null');
  assert.equal(types.length, 1, `one non-null type per setting, found ${property.type}`);
  return types[0];
}

test('options.rs parses into a plausible schema', () => {
  const schema = serverSchema(optionsRs);
  assert.ok(schema.size >= 20, `only ${schema.size} fields found: the regex no longer fits options.rs`);
  assert.equal(schema.get('backend.urls'), 'array');
  assert.equal(schema.get('sampling.temperature'), 'number');
});

/** Credentials: the `Secret`-typed fields, and the backend key, a plain String on the server. */
function secretFields(schema) {
  return [...schema.entries()]
    .filter(([key, type]) => type === 'secret' || key === 'backend.api_key')
    .map(([key]) => key)
    .sort();
}

test('package.json contributes exactly the server settings, less the credentials', () => {
  const schema = serverSchema(optionsRs);
  const secrets = secretFields(schema);
  const expected = [...schema.keys()].filter((k) => !secrets.includes(k)).sort();
  const contributed = schemaKeys(properties).sort();
  const missing = expected.filter((k) => !contributed.includes(k));
  const extra = contributed.filter((k) => !expected.includes(k));
  assert.deepEqual(
    { missing, extra },
    { missing: [], extra: [] },
    'add or remove `swiss.<section>.<field>` in package.json to match options.rs',
  );
});

test('every credential is kept in SecretStorage, none in settings', () => {
  const secrets = secretFields(serverSchema(optionsRs));
  assert.deepEqual(
    [...SECRET_KEYS.keys()].sort(),
    secrets,
    'SECRET_KEYS (src/settings.ts) must list the server\'s credential fields',
  );
  for (const key of secrets) {
    assert.equal(properties[`swiss.${key}`], undefined, `swiss.${key} must not be a setting`);
  }
  const commands = pkg.contributes.commands.map((c) => c.title);
  for (const name of SECRET_KEYS.values()) {
    assert.ok(commands.includes(`Set ${name}`), `no "Swiss: Set ${name}" command`);
  }
});

test('every contributed server setting has the server field\'s JSON type', () => {
  const schema = serverSchema(optionsRs);
  for (const key of schemaKeys(properties)) {
    assert.equal(contributedType(properties[`swiss.${key}`]), schema.get(key), `swiss.${key}`);
  }
});

test('the extension-only settings are contributed and outside the server schema', () => {
  const schema = serverSchema(optionsRs);
  for (const key of EXTENSION_ONLY_KEYS) {
    assert.ok(properties[`swiss.${key}`], `swiss.${key} is not contributed`);
    assert.ok(!schema.has(key), `${key} is a server field now; drop it from EXTENSION_ONLY_KEYS`);
  }
});

test('enumerated values match the server\'s parsers', () => {
  const settingsRs = readFileSync(new URL('../../../server/src/config/settings.rs', here), 'utf8');
  const kinds = [...settingsRs.matchAll(/"(\w+)" => Some\(SandboxChoice::/g)].map((m) => m[1]);
  assert.ok(kinds.length > 0, 'SandboxChoice::parse not found in settings.rs');
  assert.deepEqual([...properties['swiss.sandbox.kind'].enum].sort(), kinds.sort());
  const formats = [
    ...(/\/\/\/ `([\w-]+)`, `([\w-]+)` or `([\w-]+)`/.exec(
      optionsRs.slice(optionsRs.indexOf('pub struct TestOptions')),
    ) ?? []).slice(1),
  ];
  assert.equal(formats.length, 3, 'the doc comment of test.format changed; update this test');
  assert.deepEqual(
    properties['swiss.test.format'].enum.filter((v) => v !== null).sort(),
    formats.sort(),
  );
});
