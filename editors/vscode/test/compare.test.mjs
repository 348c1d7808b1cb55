import assert from 'node:assert/strict';
import { test } from 'node:test';

import { candidateUriParts, comparedFiles, parseCandidateUri } from '../out/compare.js';

const patch = (...files) => files.map((f) => `diff --git a/${f} b/${f}\n--- a/${f}\n+++ b/${f}\n`).join('');

test('a candidate file survives its URI, awkward names and job ids included', () => {
  for (const of of [
    { job: 'job-1', candidate: 3, file: 'calc/ops.py', side: 'patched' },
    { job: 'job&2=x', candidate: 0, file: 'dir/with space#1.py', side: 'original' },
  ]) {
    const { path, query } = candidateUriParts(of);
    assert.ok(path.endsWith(of.file), path);
    assert.deepEqual(parseCandidateUri(path, query), of);
  }
});

test('URIs that are not a candidate file read as none', () => {
  assert.equal(parseCandidateUri('/calc/ops.py', 'job=job-1&candidate=x&side=patched'), undefined);
  assert.equal(parseCandidateUri('/calc/ops.py', 'job=job-1&candidate=1&side=both'), undefined);
  assert.equal(parseCandidateUri('/calc/ops.py', 'candidate=1&side=patched'), undefined);
  assert.equal(parseCandidateUri('/', 'job=job-1&candidate=1&side=patched'), undefined);
});

test('the files to compare are those either candidate changes, once each, sorted', () => {
  assert.deepEqual(
    comparedFiles({ patch: patch('calc/ops.py', 'calc/fmt.py') }, { patch: patch('calc/ops.py', 'README.md') }),
    ['README.md', 'calc/fmt.py', 'calc/ops.py'],
  );
});
