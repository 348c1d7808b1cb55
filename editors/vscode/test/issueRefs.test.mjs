import assert from 'node:assert/strict';
import { test } from 'node:test';

import { findReferences, referenceAt } from '../out/issueRefs.js';

const texts = (line) => findReferences(line).map((r) => r.text);

test('finds the three kinds, as the server does', () => {
  assert.deepEqual(texts('    # FIXME: see #123.'), ['#123']);
  assert.deepEqual(texts('// fixes swiss-org/swiss#45, also #45'), ['swiss-org/swiss#45', '#45']);
  assert.deepEqual(
    texts('# https://github.com/o/r/issues/7 and (https://gitlab.com/g/p/-/issues/9)'),
    ['https://github.com/o/r/issues/7', 'https://gitlab.com/g/p/-/issues/9'],
  );
  assert.deepEqual(texts('see https://github.com/o/r/issues/7#issuecomment-1'), [
    'https://github.com/o/r/issues/7#issuecomment-1',
  ]);
});

test('ignores what only looks like a reference', () => {
  assert.deepEqual(texts('color: #fff; #12a; a#1b; x/y/z#3; #12345678901'), []);
  assert.deepEqual(texts('https://github.com/o/r/pull/7 ftp://h/issues/3'), []);
});

test('the reference under the cursor wins, else the first on the line', () => {
  const line = 'fixes #12 and octo/repo#34';
  assert.equal(referenceAt(line, 7), '#12');
  assert.equal(referenceAt(line, 20), 'octo/repo#34');
  // Right after a reference, where typing leaves the cursor.
  assert.equal(referenceAt(line, line.length), 'octo/repo#34');
  assert.equal(referenceAt(line, 0), '#12');
  assert.equal(referenceAt('nothing here', 3), undefined);
});

test('columns are UTF-16 offsets, as VS Code counts', () => {
  const line = '# é café — #7';
  const [ref] = findReferences(line);
  assert.equal(line.slice(ref.start, ref.end), '#7');
});
