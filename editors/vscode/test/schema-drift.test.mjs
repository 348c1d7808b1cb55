// Fails when the settings package.json contributes drift from the server's settings schema: a
// field added, renamed or retyped on one side only, a default or an enumeration that differs.
// The reference is docs/settings.schema.json, which `swiss config --schema` prints and a Rust
// test (tests/it/config_cli.rs) keeps equal to what the binary prints.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';

import { EXTENSION_ONLY_KEYS, SECRET_KEYS, schemaKeys } from '../out/settings.js';

const here = new URL('.', import.meta.url);
const schema = JSON.parse(
  readFileSync(new URL('../../../docs/settings.schema.json', here), 'utf8'),
);
const pkg = JSON.parse(readFileSync(new URL('../package.json', here), 'utf8'));
const properties = pkg.contributes.configuration.properties;

/** `section.field` → the field's JSON Schema, for every field of every section. */
function serverFields() {
  const fields = new Map();
  for (const [section, table] of Object.entries(schema.properties ?? {})) {
    for (const [field, property] of Object.entries(table.properties ?? {})) {
      fields.set(`${section}.${field}`, property);
    }
  }
  return fields;
}

/** The alternatives of a field: itself, or each branch of an `anyOf`/`oneOf`. */
function branches(property) {
  return property.anyOf ?? property.oneOf ?? [property];
}

/** The one JSON type a field takes besides null. */
function serverType(property, key) {
  const types = branches(property)
    .flatMap((b) => [b.type].flat())
    .filter((t) => t !== undefined && t !== 'null');
  assert.equal(new Set(types).size, 1, `${key}: one non-null type, found ${types}`);
  return types[0];
}

/** The values an enumerated field allows besides null, sorted; undefined when any are allowed. */
function enumValues(property) {
  const values = branches(property).flatMap((b) => b.enum ?? (b.const !== undefined ? [b.const] : []));
  const kept = values.filter((v) => v !== null);
  return kept.length > 0 ? kept.sort() : undefined;
}

function contributedType(property) {
  const types = [property.type].flat().filter((t) => t !== 'null');
  assert.equal(types.length, 1, `one non-null type per setting, found ${property.type}`);
  return types[0];
}

/** Credentials: the fields the schema marks `writeOnly`. */
function secretFields() {
  return [...serverFields().entries()]
    .filter(([, property]) => property.writeOnly === true)
    .map(([key]) => key)
    .sort();
}

test('the schema file holds a plausible settings schema', () => {
  const fields = serverFields();
  assert.ok(fields.size >= 30, `only ${fields.size} fields: is docs/settings.schema.json current?`);
  assert.equal(serverType(fields.get('backend.urls'), 'backend.urls'), 'array');
  assert.equal(serverType(fields.get('sampling.temperature'), 'sampling.temperature'), 'number');
  assert.equal(fields.get('repair.samples').default, 40);
  assert.deepEqual(secretFields(), ['backend.api_key', 'github.token', 'gitlab.token']);
});

test('package.json contributes exactly the server settings, less the credentials', () => {
  const secrets = secretFields();
  const expected = [...serverFields().keys()].filter((k) => !secrets.includes(k)).sort();
  const contributed = schemaKeys(properties).sort();
  const missing = expected.filter((k) => !contributed.includes(k));
  const extra = contributed.filter((k) => !expected.includes(k));
  assert.deepEqual(
    { missing, extra },
    { missing: [], extra: [] },
    'add or remove `swiss.<section>.<field>` in package.json to match the settings schema',
  );
});

test('every credential is kept in SecretStorage, none in settings', () => {
  const secrets = secretFields();
  assert.deepEqual(
    [...SECRET_KEYS.keys()].sort(),
    secrets,
    'SECRET_KEYS (src/settings.ts) must list the server\'s credential (writeOnly) fields',
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
  const fields = serverFields();
  for (const key of schemaKeys(properties)) {
    assert.equal(
      contributedType(properties[`swiss.${key}`]),
      serverType(fields.get(key), key),
      `swiss.${key}`,
    );
  }
});

test('every contributed server setting has the server\'s default', () => {
  const fields = serverFields();
  // No `default` in package.json and a null one in the schema both mean "unset".
  const differing = schemaKeys(properties)
    .map((key) => [key, properties[`swiss.${key}`].default ?? null, fields.get(key).default ?? null])
    .filter(([, contributed, server]) => !isDeepStrictEqual(contributed, server))
    .map(([key, contributed, server]) =>
      `swiss.${key}: package.json says ${JSON.stringify(contributed)}, the server ${JSON.stringify(server)}`);
  assert.deepEqual(differing, [], 'set these defaults in package.json as the server has them');
});

test('the extension-only settings are contributed and outside the server schema', () => {
  const fields = serverFields();
  for (const key of EXTENSION_ONLY_KEYS) {
    assert.ok(properties[`swiss.${key}`], `swiss.${key} is not contributed`);
    assert.ok(!fields.has(key), `${key} is a server field now; drop it from EXTENSION_ONLY_KEYS`);
  }
});

test('enumerated values match the server\'s', () => {
  const fields = serverFields();
  const enumerated = [...fields.entries()].filter(([, property]) => enumValues(property));
  assert.ok(enumerated.length >= 2, 'sandbox.kind and test.format are enumerations');
  for (const [key, property] of enumerated) {
    const contributed = properties[`swiss.${key}`]?.enum;
    assert.ok(contributed, `swiss.${key} lists no enum`);
    assert.deepEqual(contributed.filter((v) => v !== null).sort(), enumValues(property), `swiss.${key}`);
  }
});
