import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyFilePatch, changedPaths, parsePatch } from '../out/patch.js';

const OPS = 'def add(a, b):\n    return a + b\n\n\ndef divide(a, b):\n    if b == 0:\n        raise ZeroDivisionError\n    return a // b\n\n\ndef mean(v):\n    return divide(sum(v), len(v))\n';

const FIX = [
  'diff --git a/calc/ops.py b/calc/ops.py',
  '--- a/calc/ops.py',
  '+++ b/calc/ops.py',
  '@@ -5,7 +5,7 @@',
  ' def divide(a, b):',
  '     if b == 0:',
  '         raise ZeroDivisionError',
  '-    return a // b',
  '+    return a / b',
  ' ',
  ' ',
  ' def mean(v):',
  '',
].join('\n');

test('applies a hunk where it says', () => {
  const [file] = parsePatch(FIX);
  assert.equal(file.path, 'calc/ops.py');
  assert.equal(applyFilePatch(OPS, file), OPS.replace('a // b', 'a / b'));
});

test('finds a hunk that moved since the job read the file', () => {
  const [file] = parsePatch(FIX);
  const moved = '"""Arithmetic."""\n\n' + OPS;
  assert.equal(applyFilePatch(moved, file), moved.replace('a // b', 'a / b'));
});

test('gives up when the context is gone', () => {
  const [file] = parsePatch(FIX);
  assert.equal(applyFilePatch(OPS.replace('a // b', 'a % b'), file), undefined);
});

test('several files, a new one, an empty new one, a deleted one', () => {
  const patch = [
    FIX.trimEnd(),
    'diff --git a/calc/new.py b/calc/new.py',
    'new file mode 100644',
    '--- /dev/null',
    '+++ b/calc/new.py',
    '@@ -0,0 +1,2 @@',
    '+x = 1',
    '+y = 2',
    'diff --git a/calc/empty.py b/calc/empty.py',
    'new file mode 100644',
    'diff --git a/calc/old.py b/calc/old.py',
    'deleted file mode 100644',
    '--- a/calc/old.py',
    '+++ /dev/null',
    '@@ -1 +0,0 @@',
    '-gone = True',
    '',
  ].join('\n');
  const files = parsePatch(patch);
  assert.deepEqual(changedPaths(patch), ['calc/ops.py', 'calc/new.py', 'calc/empty.py', 'calc/old.py']);
  assert.deepEqual(files.map((f) => [f.created, f.deleted]), [
    [false, false], [true, false], [true, false], [false, true],
  ]);
  assert.equal(applyFilePatch('', files[1]), 'x = 1\ny = 2\n');
  assert.equal(applyFilePatch('', files[2]), '');
  assert.equal(applyFilePatch('gone = True\n', files[3]), '');
});

test('keeps a missing final newline, and adds one when the patch does', () => {
  const noEol = parsePatch(
    '--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n',
  )[0];
  assert.equal(applyFilePatch('a\nb', noEol), 'a\nc');
  const addsEol = parsePatch('--- a/f\n+++ b/f\n@@ -1 +1 @@\n-b\n\\ No newline at end of file\n+b\n')[0];
  assert.equal(applyFilePatch('b', addsEol), 'b\n');
});

test('CRLF files keep their line endings', () => {
  const crlf = parsePatch('--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n')[0];
  assert.equal(applyFilePatch('a\r\nb\r\n', crlf), 'a\r\nc\r\n');
});

test('a removed line that starts with dashes stays in its hunk', () => {
  const [file] = parsePatch('--- a/f\n+++ b/f\n@@ -1,2 +1,1 @@\n keep\n--- rule\n');
  assert.equal(applyFilePatch('keep\n-- rule\n', file), 'keep\n');
});
