// End-to-end test in a real VS Code: code-server with the packaged .vsix, driven through
// Debian's Chromium by playwright-core. It fixes the `calc` fixture's issue from the command
// palette against a scripted model backend, waits for the diagnostics, screenshots the hover
// table, applies the winner and checks the file on disk; then, on a winner with two hunks,
// compares two candidates and applies one hunk alone.
//
// Inputs (environment; .ci/vscode-test.sh sets them):
//   SWISS_BIN           the `swiss` binary (default: <repo>/target/debug/swiss)
//   CODE_SERVER         code-server's entry script (out/node/entry.js)
//   CODE_SERVER_NODE    the Node 24 binary code-server runs on
//   SWISS_VSIX          the packaged extension (default: editors/vscode/swiss.vsix)
//   CHROMIUM            default /usr/bin/chromium
//   SWISS_E2E_ARTIFACTS default <repo>/target/vscode-artifacts
//   SWISS_E2E_TIMEOUT_S the whole run's limit (default 300)

import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const env = process.env;
const SWISS_BIN = path.resolve(env.SWISS_BIN ?? path.join(repoRoot, 'target', 'debug', 'swiss'));
const VSIX = path.resolve(env.SWISS_VSIX ?? path.join(here, '..', 'swiss.vsix'));
const CHROMIUM = env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(env.SWISS_E2E_ARTIFACTS ?? path.join(repoRoot, 'target', 'vscode-artifacts'));
const LIMIT_MS = Number(env.SWISS_E2E_TIMEOUT_S ?? 300) * 1000;

const started = Date.now();
const log = (msg) => console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

function need(value, name) {
  if (!value || !fs.existsSync(value)) {
    throw new Error(`${name} not found (${value ?? 'unset'}); run .ci/vscode-setup.sh, or see .ci/vscode-test.sh`);
  }
  return value;
}

// ------------------------------------------------------------------ the fixture repository

// A small Python package whose `divide` floors its result, as in the server's own tests.
const OPS = `"""Arithmetic helpers."""


def add(a, b):
    """Return the sum of a and b."""
    return a + b


def divide(a, b):
    """Return a divided by b."""
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    return a // b


def mean(values):
    """Return the arithmetic mean of values."""
    if not values:
        raise ValueError("mean of an empty sequence")
    return divide(sum(values), len(values))
`;

const FILES = {
  'calc/__init__.py': 'from calc.ops import add, divide, mean\n\n__all__ = ["add", "divide", "mean"]\n',
  'calc/ops.py': OPS,
  'calc/fmt.py': '"""Formatting of results."""\n\n\ndef show(value):\n    return f"{value:g}"\n',
  'tests/__init__.py': '',
  'tests/test_ops.py':
    'import unittest\n\nfrom calc.ops import divide, mean\n\n\nclass OpsTest(unittest.TestCase):\n' +
    '    def test_divide_fraction(self):\n        self.assertEqual(divide(7, 2), 3.5)\n\n' +
    '    def test_mean(self):\n        self.assertEqual(mean([1, 2]), 1.5)\n',
  'README.md': '# calc\n\nArithmetic helpers.\n',
};

const ISSUE = 'divide() floors its result\n\n`calc.ops.divide(7, 2)` returns `3` instead of `3.5`, so `mean([1, 2])` is `1` too.\n';

function makeRepo(dir) {
  for (const [rel, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  const git = (...args) =>
    execFileSync('git', ['-c', 'user.name=Swiss E2E', '-c', 'user.email=e2e@swiss.invalid', ...args], {
      cwd: dir,
      stdio: 'pipe',
    });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'fixture');
}

// ------------------------------------------------------------------ the scripted model backend

const LOCALIZE = 'The bug is in the division helper.\n```\ncalc/ops.py\ncalc/__init__.py\n```\n';

const edit = (search, replace, preface = '') =>
  `${preface}\`\`\`python\n### calc/ops.py\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n\`\`\`\n`;

// Two samples agree once formatting and comments are normalized away; the other two differ,
// so the hover table has several rows and a clear winner.
const REPAIRS = [
  edit('    return a // b', '    return a / b'),
  edit('    return a // b', '    return a/b  # true division', 'Floor division is the bug.\n'),
  edit('    return a // b', '    return float(a) / float(b)'),
  edit('    return a + b', '    return a - b'),
];

// The issue of the parts step: the winner changes calc/fmt.py in two places (two hunks), the
// runner-up in one.
const PARTS_MARKER = 'show() prints too many digits';
const FMT = FILES['calc/fmt.py'];
const fmtEdit = (blocks) =>
  '```python\n' +
  blocks.map(([search, replace]) => `### calc/fmt.py\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`).join('') +
  '```\n';
const DOC_BEFORE = '"""Formatting of results."""';
const DOC_AFTER = '"""Formatting of results, to three significant digits."""';
const RETURN_BEFORE = '    return f"{value:g}"';
const RETURN_AFTER = '    return f"{value:.3g}"';
const TWO_HUNKS = fmtEdit([[DOC_BEFORE, DOC_AFTER], [RETURN_BEFORE, RETURN_AFTER]]);
const PARTS_REPAIRS = [TWO_HUNKS, fmtEdit([[RETURN_BEFORE, '    return f"{value:.3}"']]), TWO_HUNKS, TWO_HUNKS];

const REPRODUCE =
  '```python\nfrom calc.ops import divide\n\nresult = divide(7, 2)\nif result == 3.5:\n    print("Issue resolved")\n' +
  'elif result == 3:\n    print("Issue reproduced")\nelse:\n    print("Other issues")\n```\n';

const API_KEY = 'sk-e2e-from-secret-storage';
const SLOW_MARKER = 'an issue the backend answers slowly';

function startBackend() {
  const seen = { localize: 0, repair: 0, reproduce: 0, other: 0 };
  const authorizations = new Set();
  let repairIndex = 0;
  let partsIndex = 0;
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      res.writeHead(404).end();
      return;
    }
    authorizations.add(req.headers.authorization ?? '(none)');
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const prompt = (body.messages ?? []).map((m) => m.content).join('\n');
    // Reproduction prompts mention the repair format too, and repair prompts the structure.
    const kind = prompt.includes('Issue reproduced')
      ? 'reproduce'
      : prompt.includes('SEARCH/REPLACE')
        ? 'repair'
        : prompt.includes('Repository Structure')
          ? 'localize'
          : 'other';
    seen[kind]++;
    // The issue of the cancel step: its answers come too late to matter.
    if (prompt.includes(SLOW_MARKER)) {
      await new Promise((r) => setTimeout(r, 20_000));
      if (res.destroyed) return;
    }
    const n = Math.max(1, Number(body.n ?? 1));
    const choices = Array.from({ length: n }, (_, index) => {
      const content =
        kind === 'localize' ? LOCALIZE
        : kind === 'repair' && prompt.includes(PARTS_MARKER) ? PARTS_REPAIRS[partsIndex++ % PARTS_REPAIRS.length]
        : kind === 'repair' ? REPAIRS[repairIndex++ % REPAIRS.length]
        : kind === 'reproduce' ? REPRODUCE
        : 'I cannot help with that.';
      return { index, message: { role: 'assistant', content }, finish_reason: 'stop' };
    });
    const payload = JSON.stringify({
      id: `chatcmpl-e2e-${Date.now()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices,
      usage: { prompt_tokens: prompt.length >> 2, completion_tokens: 50 * n, total_tokens: (prompt.length >> 2) + 50 * n },
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(payload);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, seen, authorizations, url: `http://127.0.0.1:${server.address().port}/v1` }));
  });
}

// ------------------------------------------------------------------ code-server

function codeServerArgs(dataDir, extDir) {
  return [
    need(env.CODE_SERVER, 'CODE_SERVER'),
    '--user-data-dir', dataDir,
    '--extensions-dir', extDir,
    // An empty config file: without --config it writes a password into ~/.config/code-server.
    '--config', path.join(dataDir, 'config.yaml'),
  ];
}

async function startCodeServer(work, backendUrl) {
  const node = need(env.CODE_SERVER_NODE, 'CODE_SERVER_NODE');
  const dataDir = path.join(work, 'data');
  const extDir = path.join(work, 'extensions');
  fs.mkdirSync(path.join(dataDir, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'config.yaml'), '');
  const settings = {
    'swiss.server.path': SWISS_BIN,
    'swiss.backend.urls': [backendUrl],
    'swiss.backend.model': 'scripted',
    'swiss.sandbox.kind': 'local',
    'swiss.localize.samples': 2,
    'swiss.repair.samples': 4,
    'swiss.reproduction.enabled': true,
    'swiss.trace.server': 'messages',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'security.workspace.trust.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'editor.hover.delay': 200,
    // Below the line there is room for the whole table and the diff under it.
    'editor.hover.above': false,
    'editor.minimap.enabled': false,
    'files.autoSave': 'off',
  };
  fs.writeFileSync(path.join(dataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // code-server is a remote window: machine-scoped settings such as swiss.server.path are read
  // from the machine's settings, not the user's.
  fs.mkdirSync(path.join(dataDir, 'Machine'), { recursive: true });
  fs.writeFileSync(
    path.join(dataDir, 'Machine', 'settings.json'),
    JSON.stringify({ 'swiss.server.path': SWISS_BIN }, null, 2),
  );

  const t0 = Date.now();
  execFileSync(node, [...codeServerArgs(dataDir, extDir), '--install-extension', need(VSIX, 'SWISS_VSIX'), '--force'], {
    stdio: 'pipe',
    env: childEnv(work),
  });
  log(`installed ${path.basename(VSIX)} in ${Date.now() - t0} ms`);

  const child = spawn(
    node,
    [
      ...codeServerArgs(dataDir, extDir),
      '--auth', 'none',
      '--bind-addr', '127.0.0.1:0',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
    ],
    { env: childEnv(work), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logFile = fs.createWriteStream(path.join(ARTIFACTS, 'code-server.log'));
  child.stdout.pipe(logFile);
  child.stderr.pipe(logFile);
  const port = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`code-server did not start in 60 s:\n${text}`)), 60_000);
    const onData = (chunk) => {
      text += chunk;
      const m = /HTTP server listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`code-server exited with ${code}:\n${text}`)));
  });
  log(`code-server listening on 127.0.0.1:${port}`);
  return { child, port, dataDir };
}

/** A clean environment: no tokens (code-server and swiss both read GITHUB_TOKEN), a private HOME. */
function childEnv(work) {
  const out = { ...env, HOME: path.join(work, 'home'), XDG_CONFIG_HOME: path.join(work, 'home', '.config') };
  for (const name of ['GITHUB_TOKEN', 'GITLAB_TOKEN', 'SWISS_API_KEY', 'SWISS_BACKEND_URL', 'SWISS_MODEL', 'PASSWORD', 'HASHED_PASSWORD']) {
    delete out[name];
  }
  out.SWISS_LOG = out.SWISS_LOG ?? 'swiss=debug';
  fs.mkdirSync(out.XDG_CONFIG_HOME, { recursive: true });
  return out;
}

function killGroup(child) {
  if (!child || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {}
  setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }, 3000).unref();
}

// ------------------------------------------------------------------ the workbench

async function paletteRun(page, title) {
  // An editor that finishes opening takes the focus and closes a palette opened meanwhile, so
  // a palette that vanishes is opened again.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${title}`, { timeout: 5_000 });
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      await row.click({ timeout: 5_000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
      log(`palette: retrying "${title}" (${e.message.split('\n')[0]})`);
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
    }
  }
}

async function sourceAction(page, title) {
  // "Source Action..." acts on the focused editor; an editor still settling after it opened can
  // swallow the focus or answer "No source actions available", so the menu is asked for again.
  const editorText = page.locator('.editor-group-container .monaco-editor .view-lines').first();
  const row = page.locator('.action-widget .monaco-list-row', { hasText: title }).first();
  for (let attempt = 1; ; attempt++) {
    await editorText.click();
    await paletteRun(page, 'Source Action...');
    try {
      await row.waitFor({ timeout: 10_000 });
      await shot(page, 'source-action.png');
      await row.click();
      return;
    } catch (e) {
      const menu = await page.locator('.action-widget').allInnerTexts().catch(() => []);
      const message = await page.locator('.monaco-editor-overlaymessage').allInnerTexts().catch(() => []);
      await shot(page, `source-action-${attempt}.png`);
      if (attempt === 3) {
        throw new Error(`no "${title}" source action; menu ${JSON.stringify(menu)}, message ${JSON.stringify(message)}`);
      }
      log(`source action: retrying "${title}" (menu ${JSON.stringify(menu)}, message ${JSON.stringify(message)})`);
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1_000);
    }
  }
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file });
  log(`screenshot ${file}`);
  return file;
}

async function drive(page, port, repo, issueFile, backend) {
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(repo)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  // The status item reads "Swiss" alone once the extension is active and the server runs.
  const statusItem = page.locator('.statusbar-item', { hasText: /^\s*Swiss\s*$/ }).first();
  await statusItem.waitFor({ timeout: 60_000 });
  log('workbench up, the server running');

  // 0. The API key goes into SecretStorage; the server restarts with it in its options.
  await paletteRun(page, 'Swiss: Set API Key');
  await page.locator('.quick-input-widget .quick-input-message', { hasText: 'secret storage' }).waitFor();
  await page.keyboard.type(API_KEY);
  // The restart may pass faster than a poll, so watch the status bar for it.
  await page.evaluate(() => {
    const bar = document.querySelector('.part.statusbar');
    new MutationObserver(() => {
      if (/Swiss: (re)?starting/.test(bar.textContent)) window.swissRestarted = true;
    }).observe(bar, { subtree: true, childList: true, characterData: true });
  });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.swissRestarted === true, null, { timeout: 30_000 });
  await statusItem.waitFor({ timeout: 30_000 });
  log('API key stored; the server restarted');

  // 1. Swiss: Fix Issue… from the palette, typing the issue file's path.
  await paletteRun(page, 'Swiss: Fix Issue…');
  // The extension's input box, not the palette that opened it: it is the one with the prompt.
  await page.locator('.quick-input-widget .quick-input-message', { hasText: 'the path of an issue file' }).waitFor();
  await page.keyboard.type(issueFile);
  await shot(page, 'fix-issue.png');
  await page.keyboard.press('Enter');
  await page.locator('.statusbar-item', { hasText: 'job-1' }).first().waitFor({ timeout: 30_000 });
  log('issue submitted; job-1 started');

  // 2. The winner's diagnostic in the Problems panel.
  await paletteRun(page, 'View: Focus Problems');
  const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'the winning patch' }).first();
  await problem.waitFor({ timeout: 120_000 });
  log(`problem: ${(await problem.innerText()).replace(/\s+/g, ' ').trim()}`);
  await page.locator('.statusbar-item', { hasText: 'winner: candidate' }).first().waitFor({ timeout: 30_000 });
  await shot(page, 'problems.png');

  // 3. Hover the diagnostic in the editor (opening it from the Problems panel puts the cursor
  // on it) and keep the hover table.
  await problem.dblclick();
  await page.locator('.tab.active', { hasText: 'ops.py' }).waitFor({ timeout: 30_000 });
  await page.waitForTimeout(500);
  await paletteRun(page, 'View: Hide Panel');
  const squiggle = page.locator('.monaco-editor .squiggly-info').first();
  await squiggle.waitFor({ timeout: 30_000 });
  const hover = page.locator('.monaco-hover:visible', { hasText: 'similarity' }).first();
  for (let attempt = 0; attempt < 5; attempt++) {
    const b = await squiggle.boundingBox();
    await page.mouse.move(b.x + 2, b.y + b.height / 2);
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
    try {
      await hover.waitFor({ timeout: 5_000 });
      break;
    } catch (e) {
      if (attempt === 4) throw e;
      await page.mouse.move(5, 5);
    }
  }
  const hoverText = await hover.innerText();
  fs.writeFileSync(path.join(ARTIFACTS, 'hover.txt'), hoverText);
  for (const expected of ['votes', 'similarity', 'score', '★', 'a / b']) {
    if (!hoverText.includes(expected)) throw new Error(`the hover lacks "${expected}":\n${hoverText}`);
  }
  const hoverShot = await shot(page, 'hover.png');
  // The editor area alone, for the README.
  await page.locator('.part.editor').screenshot({ path: path.join(ARTIFACTS, 'hover-editor.png') });
  // The table fills the hover; the winning change is below it.
  const hb = await hover.boundingBox();
  await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
  await page.mouse.wheel(0, 400);
  await page.waitForTimeout(300);
  await shot(page, 'hover-diff.png');
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');

  // 4. Swiss: Show Candidates → pick the winner → a diff editor.
  await paletteRun(page, 'Swiss: Show Candidates');
  const winnerRow = page.locator('.quick-input-list .monaco-list-row', { hasText: '(winner)' }).first();
  await winnerRow.waitFor({ timeout: 30_000 });
  await shot(page, 'candidates.png');
  await winnerRow.click();
  await page.locator('.tab', { hasText: 'candidate' }).first().waitFor({ timeout: 30_000 });
  await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 30_000 });
  await shot(page, 'diff.png');

  // 5. Swiss: Apply Winning Patch, then save from the notification.
  await paletteRun(page, 'Swiss: Apply Winning Patch');
  const toast = page.locator('.notification-toast', { hasText: 'applied the winning patch' }).first();
  await toast.waitFor({ timeout: 30_000 });
  await toast.locator('.monaco-button', { hasText: 'Save All' }).click();
  const opsPath = path.join(repo, 'calc', 'ops.py');
  const deadline = Date.now() + 30_000;
  let text = fs.readFileSync(opsPath, 'utf8');
  while (!/return a \/ b$/m.test(text) && Date.now() < deadline) {
    await page.waitForTimeout(250);
    text = fs.readFileSync(opsPath, 'utf8');
  }
  if (text !== OPS.replace('return a // b', 'return a / b')) {
    throw new Error(`calc/ops.py on disk is not the winning patch applied:\n${text}`);
  }
  log('calc/ops.py on disk has the winning patch');
  await page.locator('.statusbar-item', { hasText: 'applied candidate' }).first().waitFor({ timeout: 10_000 });
  await shot(page, 'applied.png');

  // 6. The server's "Fix issue…" source action carries no issue: the extension asks for one.
  await paletteRun(page, 'View: Close All Editors');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'ops.py' }).first().click();
  await page.locator('.tab.active', { hasText: 'ops.py' }).waitFor({ timeout: 30_000 });
  await sourceAction(page, 'Fix issue…');
  await page.locator('.quick-input-widget .quick-input-message', { hasText: 'the path of an issue file' }).waitFor();
  await page.keyboard.type(issueFile);
  await page.keyboard.press('Enter');
  await page.locator('.statusbar-item', { hasText: 'job-2' }).first().waitFor({ timeout: 30_000 });
  log('the "Fix issue…" code action asked for the issue and started job-2');
  await page.locator('.statusbar-item', { hasText: /job-2 (winner|: no valid)/ }).first().waitFor({ timeout: 30_000 });

  // 7. Pasted issue text, then Swiss: Cancel while the backend is still thinking.
  await paletteRun(page, 'Swiss: Fix Issue…');
  await page.locator('.quick-input-widget .quick-input-message', { hasText: 'the path of an issue file' }).waitFor();
  await page.keyboard.type(`Slow: ${SLOW_MARKER}`);
  await page.keyboard.press('Enter');
  await page.locator('.statusbar-item', { hasText: 'job-3 running' }).first().waitFor({ timeout: 30_000 });
  await paletteRun(page, 'Swiss: Cancel');
  await page.locator('.statusbar-item', { hasText: 'job-3 cancelled' }).first().waitFor({ timeout: 10_000 });
  log('job-3 (pasted text) cancelled from the palette');
  await partsOfACandidate(page, repo);
  log(`backend requests: ${JSON.stringify(backend.seen)}`);
  const auth = [...backend.authorizations];
  if (auth.length !== 1 || auth[0] !== `Bearer ${API_KEY}`) {
    throw new Error(`every backend request should carry the stored API key; saw ${JSON.stringify(auth)}`);
  }
  if (backend.seen.localize < 1 || backend.seen.repair < 1) {
    throw new Error(`the backend saw no ${backend.seen.localize < 1 ? 'localization' : 'repair'} request`);
  }
  return hoverShot;
}

async function pickRow(page, text) {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
}

/** 8. A winner with two hunks in calc/fmt.py: Swiss: Compare Candidates… shows the winner and
 * the runner-up side by side, then Swiss: Apply Hunk on the second hunk applies it alone. */
async function partsOfACandidate(page, repo) {
  await paletteRun(page, 'Swiss: Fix Issue…');
  await page.locator('.quick-input-widget .quick-input-message', { hasText: 'the path of an issue file' }).waitFor();
  await page.keyboard.type(`Formatting: ${PARTS_MARKER}`);
  await page.keyboard.press('Enter');
  await page.locator('.statusbar-item', { hasText: 'job-4 winner' }).first().waitFor({ timeout: 120_000 });
  log('job-4 found a winner with two hunks');

  await paletteRun(page, 'Swiss: Compare Candidates');
  await pickRow(page, 'job-4');
  await pickRow(page, '(winner)');
  await pickRow(page, 'Candidate');
  const diff = page.locator('.monaco-diff-editor').first();
  await page.locator('.tab', { hasText: 'calc/fmt.py: candidate' }).first().waitFor({ timeout: 30_000 });
  await diff.waitFor({ timeout: 30_000 });
  const sides = diff.locator('.editor.original .view-lines, .editor.modified .view-lines');
  // Both sides rendered with text: `every` over no element is true, so count them first.
  await page.waitForFunction(
    () => {
      const sides = [...document.querySelectorAll('.monaco-diff-editor .editor.original .view-lines, .monaco-diff-editor .editor.modified .view-lines')];
      return sides.length >= 2 && sides.every((v) => v.textContent.includes('return'));
    },
    null,
    { timeout: 30_000 },
  );
  const [left, right] = (await sides.allInnerTexts()).map((t) => t.replace(/\u00a0/g, ' '));
  if (!left.includes('three significant digits') || !left.includes('{value:.3g}') || !right.includes('{value:.3}') || right.includes('three')) {
    throw new Error(`the comparison shows the wrong texts:\n--- left\n${left}\n--- right\n${right}`);
  }
  await shot(page, 'compare.png');
  log('Compare Candidates showed the winner and the runner-up side by side');

  await paletteRun(page, 'View: Close All Editors');
  await paletteRun(page, 'Go to File');
  await page.keyboard.type('fmt.py');
  await pickRow(page, 'fmt.py');
  await page.locator('.tab.active', { hasText: 'fmt.py' }).waitFor({ timeout: 30_000 });
  await page.locator('.monaco-editor .squiggly-info').first().waitFor({ timeout: 30_000 });
  await paletteRun(page, 'Go to Line/Column');
  await page.keyboard.type('5');
  await page.keyboard.press('Enter');
  await paletteRun(page, 'Swiss: Apply Hunk');
  const toast = page.locator('.notification-toast', { hasText: 'applied hunk 1 of candidate' }).first();
  await toast.waitFor({ timeout: 30_000 });
  await toast.locator('.monaco-button', { hasText: 'Save All' }).click();
  const fmtPath = path.join(repo, 'calc', 'fmt.py');
  const expected = FMT.replace(RETURN_BEFORE, RETURN_AFTER);
  const deadline = Date.now() + 30_000;
  let text = fs.readFileSync(fmtPath, 'utf8');
  while (text !== expected && Date.now() < deadline) {
    await page.waitForTimeout(250);
    text = fs.readFileSync(fmtPath, 'utf8');
  }
  if (text !== expected) {
    throw new Error(`calc/fmt.py on disk should have the second hunk alone:\n${text}`);
  }
  await shot(page, 'applied-hunk.png');
  log('Apply Hunk applied the hunk under the cursor and left the other out');
}

// ------------------------------------------------------------------ main

function printLogTails(dir) {
  const wanted = /(Swiss|remoteexthost)\.log$/;
  const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => wanted.test(f));
  for (const file of files) {
    const lines = fs.readFileSync(path.join(dir, file), 'utf8').trimEnd().split('\n');
    console.error(`[e2e] last lines of ${file}:\n${lines.slice(-40).join('\n')}`);
  }
}

async function main() {
  need(SWISS_BIN, 'SWISS_BIN');
  need(CHROMIUM, 'CHROMIUM');
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'swiss-vscode-e2e-'));
  const repo = path.join(work, 'calc');
  fs.mkdirSync(repo);
  makeRepo(repo);
  const issueFile = path.join(work, 'issue-divide.md');
  fs.writeFileSync(issueFile, ISSUE);

  const backend = await startBackend();
  log(`scripted backend at ${backend.url}`);
  let codeServer;
  let browser;
  let page;
  let ok = false;
  const watchdog = setTimeout(() => {
    console.error(`[e2e] FAILED: over the ${LIMIT_MS / 1000} s limit`);
    killGroup(codeServer?.child);
    process.exit(1);
  }, LIMIT_MS);
  try {
    codeServer = await startCodeServer(work, backend.url);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Chromium keeps crash reports under the config home even with a temporary profile.
      env: { ...env, HOME: path.join(work, 'home'), XDG_CONFIG_HOME: path.join(work, 'home', '.config') },
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const hoverShot = await drive(page, codeServer.port, repo, issueFile, backend);
    ok = true;
    log(`PASSED; hover screenshot: ${hoverShot}`);
  } catch (e) {
    console.error(`[e2e] FAILED: ${e.stack ?? e}`);
    if (page) await shot(page, 'failure.png').catch(() => {});
  } finally {
    clearTimeout(watchdog);
    await browser?.close().catch(() => {});
    killGroup(codeServer?.child);
    backend.server.close();
    // The extension host's logs, the Swiss output channel included, for a failed run.
    if (codeServer) {
      fs.cpSync(path.join(codeServer.dataDir, 'logs'), path.join(ARTIFACTS, 'logs'), { recursive: true, force: true });
      // CI keeps only what is printed: the tails of the logs that say why.
      if (!ok) printLogTails(path.join(ARTIFACTS, 'logs'));
    }
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  }
  // The plain closing line CI reads.
  console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
  process.exit(ok ? 0 : 1);
}

await main();
