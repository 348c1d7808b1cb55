import assert from 'node:assert/strict';
import { test } from 'node:test';

import { endState, jobOfToken, JobTracker, statusView } from '../out/jobs.js';

test('progress tokens name their job', () => {
  assert.equal(jobOfToken('swiss/job-3'), 'job-3');
  assert.equal(jobOfToken('rust-analyzer/indexing'), undefined);
  assert.equal(jobOfToken(7), undefined);
});

test('end messages give the outcome', () => {
  assert.deepEqual(
    endState('winner: candidate 3 (score 1.71, 1 vote(s)) of 2 unique candidate(s) from 4 sample(s)'),
    { state: 'won', winner: 3 },
  );
  assert.deepEqual(endState('finished: no valid candidate among 4 samples'), { state: 'no-winner' });
  assert.deepEqual(endState('cancelled; nothing was changed'), { state: 'cancelled' });
  assert.deepEqual(endState('failed: backend unreachable'), { state: 'failed' });
});

test('the status bar follows a job from start to apply', () => {
  const jobs = new JobTracker();
  let changes = 0;
  jobs.onChange(() => changes++);
  assert.equal(statusView(jobs.list()).text, '$(wand) Swiss');

  jobs.started('job-1');
  jobs.progress('job-1', { kind: 'begin', title: 'Swiss: divide() floors', percentage: 0 });
  jobs.progress('job-1', { kind: 'report', message: 'sampling repairs: 2/4 (2 valid)', percentage: 40 });
  let view = statusView(jobs.list());
  assert.equal(view.text, '$(sync~spin) Swiss: job-1 running 40%: sampling repairs: 2/4 (2 valid)');
  assert.equal(view.action, 'cancel');
  assert.match(view.tooltip, /divide\(\) floors/);

  jobs.progress('job-1', { kind: 'end', message: 'winner: candidate 3 (score 1.71, 1 vote(s)) of 2' });
  view = statusView(jobs.list());
  assert.equal(view.text, '$(check) Swiss: job-1 winner: candidate 3');
  assert.equal(view.action, 'candidates');

  jobs.applied('job-1', undefined);
  assert.equal(statusView(jobs.list()).text, '$(wand) Swiss: job-1 applied candidate 3');
  assert.ok(changes >= 5);
});

test('running jobs show first, newest first', () => {
  const jobs = new JobTracker();
  jobs.started('job-1');
  jobs.progress('job-1', { kind: 'end', message: 'failed: boom' });
  jobs.started('job-2');
  jobs.started('job-3');
  assert.deepEqual(jobs.list().map((j) => j.id), ['job-3', 'job-2', 'job-1']);
  assert.equal(statusView(jobs.list()).text, '$(sync~spin) Swiss: job-3 running (+1 more)');
  jobs.cancelled('job-3');
  jobs.dismissed('job-2');
  assert.equal(statusView(jobs.list()).text, '$(wand) Swiss: job-3 cancelled');
  assert.deepEqual(jobs.list((j) => j.state === 'failed').map((j) => j.id), ['job-1']);
});

test('a late end report does not undo an apply', () => {
  const jobs = new JobTracker();
  jobs.progress('job-1', { kind: 'end', message: 'winner: candidate 2 (score 2.00, 2 vote(s))' });
  jobs.applied('job-1', 2);
  jobs.progress('job-1', { kind: 'end', message: 'winner: candidate 2 (score 2.00, 2 vote(s))' });
  assert.equal(jobs.get('job-1').state, 'applied');
});
