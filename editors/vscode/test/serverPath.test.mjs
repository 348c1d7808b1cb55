import assert from 'node:assert/strict';
import { test } from 'node:test';

import { findServer } from '../out/serverPath.js';

const env = (over) => ({
  setting: undefined,
  workspaceFolder: '/ws',
  pathVariable: '/usr/bin:/opt/swiss/bin',
  home: '/home/u',
  platform: 'linux',
  isExecutable: () => false,
  ...over,
});

test('the setting comes first, with ~ and relative paths resolved', () => {
  const exists = (p) => ['/home/u/bin/swiss', '/ws/target/debug/swiss', '/opt/swiss/bin/swiss'].includes(p);
  assert.deepEqual(findServer(env({ setting: '~/bin/swiss', isExecutable: exists })), { found: '/home/u/bin/swiss' });
  assert.deepEqual(findServer(env({ setting: 'target/debug/swiss', isExecutable: exists })), {
    found: '/ws/target/debug/swiss',
  });
  assert.deepEqual(findServer(env({ setting: '${workspaceFolder}/target/debug/swiss', isExecutable: exists })), {
    found: '/ws/target/debug/swiss',
  });
});

test('a setting that points nowhere is an error, not a silent fallback', () => {
  const got = findServer(env({ setting: '/nope/swiss', isExecutable: (p) => p === '/opt/swiss/bin/swiss' }));
  assert.match(got.missing, /swiss\.server\.path is set to \/nope\/swiss/);
});

test('then PATH, then ~/.cargo/bin', () => {
  assert.deepEqual(findServer(env({ isExecutable: (p) => p === '/opt/swiss/bin/swiss' })), {
    found: '/opt/swiss/bin/swiss',
  });
  assert.deepEqual(findServer(env({ isExecutable: (p) => p === '/home/u/.cargo/bin/swiss' })), {
    found: '/home/u/.cargo/bin/swiss',
  });
});

test('missing everywhere: the message says how to get it', () => {
  const got = findServer(env({}));
  assert.match(got.missing, /not found/);
  assert.match(got.missing, /cargo install --path server/);
  assert.match(got.missing, /swiss\.server\.path/);
});
