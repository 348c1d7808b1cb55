import assert from 'node:assert/strict';
import { test } from 'node:test';

import { changedPaths } from '../out/paths.js';

test('the files of a patch, from its diff --git headers, new and empty ones included', () => {
  const patch = [
    'diff --git a/calc/ops.py b/calc/ops.py',
    '--- a/calc/ops.py',
    '+++ b/calc/ops.py',
    '@@ -1 +1 @@',
    '-diff --git a/not/a/header.py b/not/a/header.py',
    '+x',
    'diff --git a/calc/new.py b/calc/new.py',
    'new file mode 100644',
    '--- /dev/null',
    '+++ b/calc/new.py',
    '@@ -0,0 +1 @@',
    '+x = 1',
    'diff --git a/calc/empty.py b/calc/empty.py',
    'new file mode 100644',
    'diff --git a/with space.py b/with space.py',
    '',
  ].join('\n');
  assert.deepEqual(changedPaths(patch), ['calc/ops.py', 'calc/new.py', 'calc/empty.py', 'with space.py']);
  assert.deepEqual(changedPaths(''), []);
});

test('names git quotes are unquoted', () => {
  const patch = 'diff --git "a/tab\\there \\"q\\".py" "b/tab\\there \\"q\\".py"\n' +
    'diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"\n';
  assert.deepEqual(changedPaths(patch), ['tab\there "q".py', 'café.py']);
});
