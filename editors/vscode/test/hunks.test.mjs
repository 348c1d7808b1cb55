import assert from 'node:assert/strict';
import { test } from 'node:test';

import { hunksIn } from '../out/hunks.js';

const range = (from, to) => ({ start: { line: from, character: 0 }, end: { line: to, character: 9 } });
const cursor = (line) => range(line, line);

const diagnostics = [
  { source: 'other', code: 'winner', range: range(0, 9), data: { job: 'x', candidate: 1, hunk: 7 } },
  { source: 'swiss', code: 'localized', range: range(0, 0), data: { job: 'job-1' } },
  { source: 'swiss', code: 'winner', range: range(10, 10), data: { job: 'job-1', candidate: 2, hunk: 1 } },
  // With an issue URL, vscode-languageclient turns the code into {value, target}.
  { source: 'swiss', code: { value: 'winner', target: 'https://x' }, range: range(4, 6), data: { job: 'job-1', candidate: 2, hunk: 0 } },
  { source: 'swiss', code: 'winner', range: range(12, 12), data: { job: 'job-2', candidate: 1, hunk: 3 } },
];

test('the winner hunk under the cursor', () => {
  assert.deepEqual(hunksIn(diagnostics, [cursor(5)]), { job: 'job-1', candidate: 2, hunks: [0] });
  assert.deepEqual(hunksIn(diagnostics, [cursor(10)]), { job: 'job-1', candidate: 2, hunks: [1] });
  assert.equal(hunksIn(diagnostics, [cursor(0)]), undefined);
  assert.equal(hunksIn(diagnostics, [cursor(8)]), undefined);
});

test('a selection or several cursors take every hunk they touch, of one job and candidate', () => {
  assert.deepEqual(hunksIn(diagnostics, [range(11, 3)]), { job: 'job-1', candidate: 2, hunks: [0, 1] });
  assert.deepEqual(hunksIn(diagnostics, [cursor(10), cursor(4), cursor(12)]), { job: 'job-1', candidate: 2, hunks: [0, 1] });
});

test('a winner diagnostic without a hunk number (an older server) gives none', () => {
  const old = [{ source: 'swiss', code: 'winner', range: range(1, 1), data: { job: 'job-1', candidate: 2 } }];
  assert.equal(hunksIn(old, [cursor(1)]), undefined);
});
