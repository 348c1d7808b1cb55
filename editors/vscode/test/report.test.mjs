import assert from 'node:assert/strict';
import { test } from 'node:test';

import { candidateItems, candidatesPlaceholder, reproductionText } from '../out/report.js';
import { confidenceText, describeReason } from '../out/reasons.js';

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

const source = 'SWE-Swiss-32B on SWE-bench Verified';

test('each loser says why in its detail, in the words of the hover', () => {
  const withReasons = {
    ...report,
    candidates: [
      { ...report.candidates[0], reasons: [] },
      {
        ...report.candidates[1],
        reasons: [
          { kind: 'breaks-tests', count: 5, tests: ['t::a', 't::b', 't::c'] },
          { kind: 'still-reproduced' },
        ],
      },
      { ...report.candidates[2], reasons: [{ kind: 'never-verified' }, { kind: 'fewer-votes', votes: 2, winner_votes: 3 }] },
    ],
  };
  const items = candidateItems(withReasons);
  assert.equal(items[0].detail, 'regression failures: 0 · reproduction: passes · kept by the filters · calc/ops.py');
  assert.equal(
    items[1].detail,
    'regression failures: 1 · reproduction: fails · filtered out · calc/ops.py, calc/fmt.py · breaks 5 regression test(s): t::a, t::b, t::c and 2 more; still prints Issue reproduced',
  );
  assert.ok(
    items[2].detail.endsWith(' · never verified (sandbox none or no test command); fewer votes than the winner (2 vs 3)'),
    items[2].detail,
  );
});

test('every reason kind reads as the server writes it', () => {
  const cases = [
    [{ kind: 'breaks-tests', count: 1, tests: [] }, 'breaks 1 regression test(s)'],
    [{ kind: 'reproduction-unclear' }, 'the reproduction test prints no clear verdict with it (Other issues, or it failed)'],
    [{ kind: 'verification-failed', error: 'failed to run in the sandbox: disk full' }, 'not verified: failed to run in the sandbox: disk full'],
    [{ kind: 'not-tested' }, 'not verified: the job ended before its tests ran'],
    [{ kind: 'filtered-out' }, 'dropped by the regression filter'],
    [{ kind: 'same-votes-lower-similarity', similarity: 0.5, winner_similarity: 0.75 }, 'same votes, lower similarity (0.5000 vs 0.7500)'],
    [{ kind: 'lower-score', score: 2.5, winner_score: 2.75 }, 'more votes, but its lower similarity leaves it behind (score 2.5000 vs 2.7500)'],
    [{ kind: 'later-sample', first_sample: 4, winner_first_sample: 1 }, 'same score, first seen later (sample 4 vs 1)'],
    [{ kind: 'from-a-newer-server' }, 'from-a-newer-server'],
  ];
  for (const [reason, text] of cases) {
    assert.equal(describeReason(reason), text);
  }
});

test('the placeholder gives the band, its figure and what lowers it', () => {
  assert.equal(candidatesPlaceholder(report), 'Candidates, best first');
  const confidence = { share: 0.375, votes: 3, samples: 8, band: 'medium', resolve_rate: 0.62, source, caveats: [] };
  assert.equal(
    candidatesPlaceholder({ ...report, confidence }),
    "Candidates, best first — confidence medium: 38% of the samples agree (3 of 8), 62% resolved in SWE-Swiss's runs",
  );
  const stopped = {
    ...confidence,
    caveats: [{ kind: 'early-stop', received: 8, requested: 30 }, { kind: 'no-reproduction-test', note: 'none reproduced it' }],
  };
  assert.equal(
    confidenceText(stopped),
    "confidence medium: 38% of the samples agree (3 of 8), 62% resolved in SWE-Swiss's runs; lowered: sampling stopped early: the share is over 8 of 30 requested samples; no valid reproduction test (none reproduced it)",
  );
  assert.equal(confidenceText(null), undefined);
});
