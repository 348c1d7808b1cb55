import assert from 'node:assert/strict';
import { test } from 'node:test';

import { hunkAt } from '../out/hunks.js';

const range = (from, to) => ({ start: { line: from, character: 0 }, end: { line: to, character: 9 } });

test('the winner hunk whose diagnostic covers the line', () => {
  const diagnostics = [
    { source: 'other', code: 'winner', range: range(0, 9), data: { job: 'x', candidate: 1, hunk: 7 } },
    { source: 'swiss', code: 'localized', range: range(0, 0), data: { job: 'job-1' } },
    // With an issue URL, vscode-languageclient turns the code into {value, target}.
    { source: 'swiss', code: { value: 'winner', target: 'https://x' }, range: range(4, 6), data: { job: 'job-1', candidate: 2, hunk: 0 } },
    { source: 'swiss', code: 'winner', range: range(10, 10), data: { job: 'job-1', candidate: 2, hunk: 1 } },
  ];
  assert.deepEqual(hunkAt(diagnostics, 5), { job: 'job-1', candidate: 2, hunk: 0 });
  assert.deepEqual(hunkAt(diagnostics, 10), { job: 'job-1', candidate: 2, hunk: 1 });
  assert.equal(hunkAt(diagnostics, 0), undefined);
  assert.equal(hunkAt(diagnostics, 8), undefined);
});

test('a winner diagnostic without a hunk number (an older server) gives none', () => {
  const old = [{ source: 'swiss', code: 'winner', range: range(1, 1), data: { job: 'job-1', candidate: 2 } }];
  assert.equal(hunkAt(old, 1), undefined);
});
