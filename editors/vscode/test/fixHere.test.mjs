import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';

import { pinActiveFile } from '../out/fixHere.js';

const uri = (scheme, text) => ({ scheme, toString: () => text });

test('the active file is pinned by its URI, and the issue is left to the prompt', () => {
  const pinned = pinActiveFile(uri('file', 'file:///repo/calc/ops.py'));
  assert.deepEqual(pinned, { arg: { files: ['file:///repo/calc/ops.py'] } });
  assert.equal('issue' in pinned.arg, false);
});

test('without a saved file there is nothing to pin, and the user is told what to do', () => {
  assert.match(pinActiveFile(undefined).refusal, /open the file the fix belongs in/);
  const untitled = pinActiveFile(uri('untitled', 'untitled:Untitled-1'));
  assert.match(untitled.refusal, /not a untitled: document\. Save it first, or run "Swiss: Fix Issue…"/);
  assert.equal(untitled.arg, undefined);
});

test('the palette lists the command under its title', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const command = manifest.contributes.commands.find((c) => c.command === 'swiss.ui.fixIssueHere');
  assert.deepEqual(command, { command: 'swiss.ui.fixIssueHere', title: 'Fix Issue Here…', category: 'Swiss' });
  const source = readFileSync(new URL('../src/extension.ts', import.meta.url), 'utf8');
  assert.match(source, /register\('swiss\.ui\.fixIssueHere', fixIssueHere\)/);
});
