import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { explicitFrom, initializationOptions, schemaKeys, serverOptions } from '../out/settings.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const keys = schemaKeys(pkg.contributes.configuration.properties);

test('schema keys leave out the extension-only settings', () => {
  assert.ok(keys.includes('backend.urls'));
  assert.ok(keys.includes('sandbox.kind'));
  assert.ok(!keys.includes('server.path'));
  assert.ok(!keys.includes('trace.server'));
});

test('only the values the user set become nested server options', () => {
  const set = {
    'backend.urls': ['http://gpu:8000/v1'],
    'repair.samples': 8,
    'reproduction.enabled': false,
    'sandbox.kind': 'none',
    'sandbox.image': '',
    'sampling.max_tokens': null,
    'test.env': { PYTHONPATH: 'src' },
  };
  assert.deepEqual(serverOptions(keys, (k) => set[k]), {
    backend: { urls: ['http://gpu:8000/v1'] },
    repair: { samples: 8 },
    reproduction: { enabled: false },
    sandbox: { kind: 'none' },
    test: { env: { PYTHONPATH: 'src' } },
  });
  assert.deepEqual(serverOptions(keys, () => undefined), {});
});

test('zero and false are values, not absences', () => {
  const got = serverOptions(['backend.max_retries', 'reproduction.enabled'], () => 0);
  assert.deepEqual(got, { backend: { max_retries: 0 }, reproduction: { enabled: 0 } });
});

test('the most specific scope wins, and package.json defaults are never sent', () => {
  assert.equal(explicitFrom({ defaultValue: 1, globalValue: 2, workspaceValue: 3 }), 3);
  assert.equal(explicitFrom({ globalValue: 2, workspaceFolderValue: 4, workspaceValue: 3 }), 4);
  assert.equal(explicitFrom({ defaultValue: 0.6 }), undefined);
  assert.equal(explicitFrom(undefined), undefined);
});

test('credentials join the initialization options in their sections', () => {
  const options = { backend: { model: 'm' } };
  const secrets = new Map([
    ['backend.api_key', 'sk-1'],
    ['github.token', undefined],
    ['gitlab.token', 'glpat'],
  ]);
  assert.deepEqual(initializationOptions(options, secrets), {
    backend: { model: 'm', api_key: 'sk-1' },
    gitlab: { token: 'glpat' },
  });
  assert.deepEqual(options, { backend: { model: 'm' } }, 'the settings object is left alone');
  assert.deepEqual(initializationOptions({}, new Map()), {});
});
