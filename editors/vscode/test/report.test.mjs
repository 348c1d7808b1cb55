import assert from 'node:assert/strict';
import { test } from 'node:test';

import { candidateItems, reproductionText } from '../out/report.js';

const patch = (file) =>
  `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n@@ -1 +1 @@\n-a\n+b\n`;

const report = {
  issue: { title: 'divide() floors its result' },
  localized_files: ['calc/ops.py'],
  winner: 3,
  winner_patch: patch('calc/ops.py'),
  candidates: [
    {
      id: 3, patch: patch('calc/ops.py'), votes: 1, similarity: 0.70833, score: 1.70833,
      regression_failures: 0, reproduced: false, filtered_out: false, selected: true,
    },
    {
      id: 1, patch: patch('calc/ops.py') + patch('calc/fmt.py'), votes: 3, similarity: 1, score: 4,
      regression_failures: 1, reproduced: true, filtered_out: true, selected: false,
    },
    {
      id: 2, patch: patch('calc/ops.py'), votes: 2, similarity: 0.5, score: 2.5,
      regression_failures: null, reproduced: null, filtered_out: false, selected: false,
    },
  ],
};

test('items keep the server order and read like the hover table', () => {
  const items = candidateItems(report);
  assert.deepEqual(items.map((i) => i.candidate), [3, 1, 2]);
  assert.deepEqual(items[0], {
    label: '$(star-full) Candidate 3 (winner)',
    description: 'score 1.7083 · 1 vote · similarity 0.7083',
    detail: 'regression failures: 0 · reproduction: passes · kept by the filters · calc/ops.py',
    candidate: 3,
  });
  assert.equal(items[1].label, 'Candidate 1');
  assert.equal(items[1].description, 'score 4.0000 · 3 votes · similarity 1.0000');
  assert.equal(
    items[1].detail,
    'regression failures: 1 · reproduction: fails · filtered out · calc/ops.py, calc/fmt.py',
  );
  assert.equal(items[2].detail, 'regression failures: not run · reproduction: not run · kept by the filters · calc/ops.py');
});

test('reproduction is seen from the issue: false means the test passes', () => {
  assert.equal(reproductionText(false), 'passes');
  assert.equal(reproductionText(true), 'fails');
  assert.equal(reproductionText(null), 'not run');
});
