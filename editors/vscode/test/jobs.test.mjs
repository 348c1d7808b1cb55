import assert from 'node:assert/strict';
import { test } from 'node:test';

import { jobOfToken, JobTracker, statusView } from '../out/jobs.js';

const WON = 'winner: candidate 3 (score 1.71, 1 vote(s)) of 2 unique candidate(s) from 4 sample(s)';
const ended = (job, state, fields = {}) => ({ job, state, winner: null, message: '', reason: null, ...fields });

test('progress tokens name their job', () => {
  assert.equal(jobOfToken('swiss/job-3'), 'job-3');
  assert.equal(jobOfToken('rust-analyzer/indexing'), undefined);
  assert.equal(jobOfToken(7), undefined);
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

  jobs.ended(ended('job-1', 'succeeded', { winner: 3, message: WON }));
  view = statusView(jobs.list());
  assert.equal(view.text, '$(check) Swiss: job-1 winner: candidate 3');
  assert.equal(view.action, 'candidates');
  assert.match(view.tooltip, /job-1: divide\(\) floors — winner: candidate 3 \(score 1\.71/);

  jobs.applied('job-1', undefined);
  assert.equal(statusView(jobs.list()).text, '$(wand) Swiss: job-1 applied candidate 3');
  assert.ok(changes >= 5);
});

test('the end of the progress does not decide how the job ended', () => {
  const jobs = new JobTracker();
  jobs.progress('job-1', { kind: 'begin', title: 'Swiss: t', percentage: 0 });
  // Text that reads like a win; only swiss/jobEnded says what happened.
  jobs.progress('job-1', { kind: 'end', message: 'winner: candidate 9 (score 1.00, 1 vote(s))' });
  assert.equal(jobs.get('job-1').state, 'running');
  assert.equal(jobs.get('job-1').winner, undefined);
  jobs.ended(ended('job-1', 'failed', { message: 'failed: HTTP 500' }));
  assert.equal(jobs.get('job-1').state, 'failed');
  assert.equal(statusView(jobs.list()).text, '$(wand) Swiss: job-1 failed');
});

test('each end state shows as such', () => {
  const jobs = new JobTracker();
  jobs.ended(ended('job-1', 'no-candidate', { message: 'finished: no valid candidate among 4 samples' }));
  assert.equal(statusView(jobs.list()).text, '$(wand) Swiss: job-1: no valid candidate');
  jobs.ended(ended('job-2', 'cancelled', { message: 'cancelled; nothing was changed', reason: 'user' }));
  assert.equal(statusView(jobs.list()).text, '$(wand) Swiss: job-2 cancelled');
  assert.equal(jobs.get('job-2').reason, 'user');
  assert.deepEqual(jobs.list((j) => j.state === 'no-candidate').map((j) => j.id), ['job-1']);
});

test('running jobs show first, newest first', () => {
  const jobs = new JobTracker();
  jobs.started('job-1');
  jobs.ended(ended('job-1', 'failed', { message: 'failed: boom' }));
  jobs.started('job-2');
  jobs.started('job-3');
  assert.deepEqual(jobs.list().map((j) => j.id), ['job-3', 'job-2', 'job-1']);
  assert.equal(statusView(jobs.list()).text, '$(sync~spin) Swiss: job-3 running (+1 more)');
  // A cancel shows when the server says the job ended, not when the command returns.
  jobs.ended(ended('job-3', 'cancelled', { reason: 'user' }));
  jobs.dismissed('job-2');
  assert.equal(statusView(jobs.list()).text, '$(wand) Swiss: job-3 cancelled');
  assert.deepEqual(jobs.list((j) => j.state === 'failed').map((j) => j.id), ['job-1']);
});

test('a dismissed job stays gone, whichever of its ends comes last', () => {
  const jobs = new JobTracker();
  jobs.started('job-1');
  jobs.dismissed('job-1');
  jobs.progress('job-1', { kind: 'end', message: 'cancelled; nothing was changed' });
  jobs.ended(ended('job-1', 'cancelled', { reason: 'dismiss' }));
  assert.equal(jobs.get('job-1'), undefined);
  jobs.started('job-2');
  jobs.ended(ended('job-2', 'cancelled', { reason: 'dismiss' }));
  assert.equal(jobs.get('job-2'), undefined);
  assert.equal(statusView(jobs.list()).text, '$(wand) Swiss');
});

test('a late end does not undo an apply', () => {
  const jobs = new JobTracker();
  jobs.ended(ended('job-1', 'succeeded', { winner: 2, message: WON }));
  jobs.applied('job-1', 2);
  jobs.ended(ended('job-1', 'succeeded', { winner: 2, message: WON }));
  assert.equal(jobs.get('job-1').state, 'applied');
  assert.equal(jobs.get('job-1').message, 'applied candidate 2');
});

test('jobs kept from an earlier session join the list, applied ones as applied', () => {
  const jobs = new JobTracker();
  jobs.started('job-4');
  const summary = (job, fields) => ({
    job,
    issue: { title: `issue of ${job}` },
    state: 'done',
    kept: true,
    winner: 1,
    applied: null,
    ...fields,
  });
  jobs.listed([
    summary('job-1', {}),
    summary('job-2', { applied: 2 }),
    summary('job-3', { winner: null }),
    summary('job-4', { kept: false, state: 'running', winner: null }),
  ]);
  assert.equal(jobs.get('job-1').state, 'succeeded');
  assert.equal(jobs.get('job-1').winner, 1);
  assert.equal(jobs.get('job-1').message, 'kept from an earlier session');
  assert.equal(jobs.get('job-1').title, 'issue of job-1');
  assert.equal(jobs.get('job-2').state, 'applied');
  assert.equal(jobs.get('job-3').state, 'no-candidate');
  // A job this session already tracks keeps what it knows.
  assert.equal(jobs.get('job-4').state, 'running');
  assert.equal(jobs.list().length, 4);
});
