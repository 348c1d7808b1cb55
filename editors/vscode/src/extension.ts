// The VS Code side of Swiss: starts `swiss lsp`, adds palette commands over the server's
// `swiss.*` commands (docs/lsp.md), and keeps a status bar item for its jobs. Everything the
// server already does in plain LSP (progress with a cancel button, diagnostics, hover, code
// actions, applying edits) is left to vscode-languageclient.

import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  RevealOutputChannelOn,
  ServerOptions as ProcessOptions,
  TransportKind,
} from 'vscode-languageclient/node';

import { referenceAt } from './issueRefs';
import { JOB_ENDED, JobEnded, JobInfo, JobSummary, JobTracker, jobOfToken, ProgressValue, statusView } from './jobs';
import { CANDIDATE_SCHEME, candidateUriParts, CandidateFile, comparedFiles, parseCandidateUri } from './compare';
import { hunksIn } from './hunks';
import { changedPaths } from './paths';
import { CandidateReport, candidateItems, candidatesPlaceholder, JobReport } from './report';
import { pinActiveFile } from './fixHere';
import { findServer } from './serverPath';
import {
  explicitFrom,
  initializationOptions,
  schemaKeys,
  SECRET_KEYS,
  ServerOptions,
  serverOptions,
} from './settings';

const FIX_ISSUE = 'swiss.fixIssue';
const CANCEL = 'swiss.cancel';
const APPLY_CANDIDATE = 'swiss.applyCandidate';
const CANDIDATES = 'swiss.candidates';
const SHOW_DIFF = 'swiss.showDiff';
const DISMISS = 'swiss.dismiss';
const CANDIDATE_TEXT = 'swiss.candidateText';

/** SecretStorage keys are `swiss.<schema key>`, e.g. `swiss.backend.api_key`. */
const secretId = (key: string) => `swiss.${key}`;

let client: LanguageClient | undefined;
/** Settles when the latest start attempt has, so a command run at startup waits for it. */
let clientStarting: Promise<void> = Promise.resolve();
let context: vscode.ExtensionContext;
let output: vscode.OutputChannel;
let status: vscode.StatusBarItem;
const secrets = new Map<string, string | undefined>();
const tracker = new JobTracker();

export async function activate(ctx: vscode.ExtensionContext): Promise<void> {
  context = ctx;
  output = vscode.window.createOutputChannel('Swiss');
  status = vscode.window.createStatusBarItem('swiss.status', vscode.StatusBarAlignment.Left, 50);
  status.name = 'Swiss';
  status.command = 'swiss.ui.statusClick';
  tracker.onChange(renderStatus);
  renderStatus();
  status.show();

  const register = (id: string, run: () => unknown) =>
    ctx.subscriptions.push(vscode.commands.registerCommand(id, run));
  register('swiss.ui.fixIssue', fixIssueFromPalette);
  register('swiss.ui.fixIssueHere', fixIssueHere);
  register('swiss.ui.cancel', cancelJob);
  register('swiss.ui.showCandidates', showCandidates);
  register('swiss.ui.applyWinner', applyWinner);
  register('swiss.ui.applyCandidate', applyChosenCandidate);
  register('swiss.ui.applyHunk', applyHunkAtCursor);
  register('swiss.ui.compareCandidates', compareCandidates);
  register('swiss.ui.setApiKey', () => setSecret('backend.api_key'));
  register('swiss.ui.setGithubToken', () => setSecret('github.token'));
  register('swiss.ui.setGitlabToken', () => setSecret('gitlab.token'));
  register('swiss.ui.restartServer', restartClient);
  register('swiss.ui.showOutput', () => output.show(true));
  register('swiss.ui.statusClick', statusClick);

  ctx.subscriptions.push(
    output,
    status,
    vscode.workspace.registerTextDocumentContentProvider(CANDIDATE_SCHEME, {
      provideTextDocumentContent: candidateContent,
    }),
    vscode.workspace.onDidChangeConfiguration(onConfigurationChanged),
    // Also fires when another window stores a secret; every window then restarts with it, since
    // initializationOptions are the only way in.
    ctx.secrets.onDidChange(async (e) => {
      for (const key of SECRET_KEYS.keys()) {
        if (e.key === secretId(key)) {
          secrets.set(key, await ctx.secrets.get(e.key));
          await restartClient();
        }
      }
    }),
  );

  for (const key of SECRET_KEYS.keys()) {
    secrets.set(key, await ctx.secrets.get(secretId(key)));
  }
  await (clientStarting = startClient());
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

// ---------------------------------------------------------------- settings

/** The server-schema keys, straight from package.json so the two cannot disagree. */
function settingKeys(): string[] {
  const properties = context.extension.packageJSON?.contributes?.configuration?.properties ?? {};
  return schemaKeys(properties);
}

function currentOptions(scope?: vscode.Uri): ServerOptions {
  const config = vscode.workspace.getConfiguration('swiss', scope);
  return serverOptions(settingKeys(), (key) => explicitFrom(config.inspect(key)));
}

async function onConfigurationChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
  if (e.affectsConfiguration('swiss.server.path')) {
    await restartClient();
    return;
  }
  if (e.affectsConfiguration('swiss') && client?.isRunning()) {
    await client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { swiss: currentOptions() },
    });
  }
}

// ---------------------------------------------------------------- the client

async function startClient(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const lookup = findServer({
    setting: vscode.workspace.getConfiguration('swiss').get<string>('server.path'),
    workspaceFolder: folder,
    pathVariable: process.env.PATH,
    home: os.homedir(),
    platform: process.platform,
    isExecutable: (file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
      } catch {
        return false;
      }
    },
  });
  if ('missing' in lookup) {
    output.appendLine(lookup.missing);
    status.text = '$(error) Swiss: server not found';
    status.tooltip = lookup.missing;
    void vscode.window
      .showErrorMessage(lookup.missing, 'Open Settings', 'Retry')
      .then(async (choice) => {
        if (choice === 'Open Settings') {
          await vscode.commands.executeCommand('workbench.action.openSettings', 'swiss.server.path');
        } else if (choice === 'Retry') {
          await restartClient();
        }
      });
    return;
  }
  output.appendLine(`Swiss: starting ${lookup.found} lsp`);
  const run = { command: lookup.found, args: ['lsp'], transport: TransportKind.stdio };
  const processOptions: ProcessOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    // Every file: an issue reference can sit in any comment, and open buffers are what a job
    // reads, whatever their language.
    documentSelector: [{ scheme: 'file' }],
    outputChannel: output,
    // Failed commands are reported once, with the server's own message, by `executeCommand`
    // below; the client's generic "Request … failed" would only repeat it.
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: () => initializationOptions(currentOptions(), secrets),
    middleware: {
      executeCommand: runServerCommand,
      handleWorkDoneProgress: (token, params, next) => {
        const job = jobOfToken(token);
        if (job) {
          tracker.progress(job, params as ProgressValue);
        }
        next(token, params);
      },
      workspace: {
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) {
            return answers;
          }
          return params.items.map((item, i) =>
            item.section === 'swiss'
              ? currentOptions(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
              : answers[i],
          );
        },
      },
    },
  };
  client = new LanguageClient('swiss', 'Swiss', processOptions, clientOptions);
  client.onNotification(JOB_ENDED, (end: JobEnded) => tracker.ended(end));
  tracker.clear();
  status.text = '$(sync~spin) Swiss: starting';
  status.tooltip = `${lookup.found} lsp`;
  try {
    await client.start();
    await listJobs(client);
  } catch (e) {
    const message = `Swiss: the language server (${lookup.found} lsp) failed to start: ${errorMessage(e)}`;
    output.appendLine(message);
    void vscode.window.showErrorMessage(message, 'Show Output').then((choice) => {
      if (choice) {
        output.show(true);
      }
    });
  }
  renderStatus();
}

/** Jobs kept from earlier sessions (`.git/swiss/jobs/`) join the job list at start. */
async function listJobs(started: LanguageClient): Promise<void> {
  try {
    const answer = await started.sendRequest<{ jobs?: JobSummary[] } | null>(
      'workspace/executeCommand',
      { command: 'swiss.jobs', arguments: [] },
    );
    tracker.listed(answer?.jobs ?? []);
  } catch (e) {
    output.appendLine(`Swiss: failed to list the kept jobs: ${errorMessage(e)}`);
  }
}

async function restartClient(): Promise<void> {
  const old = client;
  client = undefined;
  status.text = '$(sync~spin) Swiss: restarting';
  if (old) {
    try {
      await old.stop();
    } catch (e) {
      output.appendLine(`Swiss: stopping the server failed: ${errorMessage(e)}`);
    }
  }
  await (clientStarting = startClient());
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Every `swiss.*` command goes through here, whether the palette, a code action or a script ran
 * it: the argument-less "Fix issue…" action gets its issue asked for, results update the job
 * list, and errors are shown once with the server's message.
 */
async function runServerCommand(
  command: string,
  args: unknown[],
  next: (command: string, args: unknown[]) => unknown,
): Promise<unknown> {
  let arg = args[0] as Record<string, unknown> | undefined;
  if (command === FIX_ISSUE && typeof arg?.issue !== 'string') {
    const issue = await promptIssue();
    if (issue === undefined) {
      return undefined;
    }
    // "Fix issue here…" carries the file to pin (`files`) and leaves the issue to ask for.
    arg = { ...arg, issue };
    args = [arg];
  }
  let result: unknown;
  try {
    result = await next(command, args);
  } catch (e) {
    if (e instanceof vscode.CancellationError) {
      return undefined;
    }
    // A stale apply comes with the server's own "Re-run Swiss" question; a second message
    // would only repeat it.
    if (e instanceof ResponseError && (e.data as { rerun?: unknown } | undefined)?.rerun) {
      return undefined;
    }
    void vscode.window.showErrorMessage(`Swiss: ${errorMessage(e)}`);
    return undefined;
  }
  const job = typeof arg?.job === 'string' ? arg.job : undefined;
  switch (command) {
    case FIX_ISSUE: {
      const started = (result as { job?: string } | undefined)?.job;
      if (started) {
        tracker.started(started);
      }
      break;
    }
    case DISMISS:
      if (job) {
        tracker.dismissed(job);
      }
      break;
    case APPLY_CANDIDATE:
      if (job) {
        reportApply(job, arg?.candidate as number | undefined, arg?.hunks as number[] | undefined, result);
      }
      break;
  }
  return result;
}

function reportApply(job: string, candidate: number | undefined, hunks: number[] | undefined, result: unknown): void {
  const answer = result as { applied?: boolean; failureReason?: string } | undefined;
  if (!answer?.applied) {
    void vscode.window.showErrorMessage(
      `Swiss: the editor did not apply the patch of ${job}: ${answer?.failureReason ?? 'no reason given'}`,
    );
    return;
  }
  tracker.applied(job, candidate ?? tracker.get(job)?.winner);
  let which = candidate !== undefined ? `candidate ${candidate}` : 'the winning patch';
  if (hunks) {
    which = `hunk ${hunks.join(', ')} of ${which}`;
  }
  // The edit lands in editor buffers like any refactoring: undoable, and unsaved until saved.
  void vscode.window
    .showInformationMessage(`Swiss: applied ${which} of ${job}; the changed files are not saved yet.`, 'Save All')
    .then((choice) => {
      if (choice === 'Save All') {
        void vscode.workspace.saveAll(false);
      }
    });
}

/** `vscode.commands.executeCommand` of a server command, through the middleware above. */
async function server<T>(command: string, arg: Record<string, unknown>): Promise<T | undefined> {
  await clientStarting;
  if (!client?.isRunning()) {
    void vscode.window.showErrorMessage(
      'Swiss: the language server is not running. See the "Swiss" output, or run "Swiss: Restart Server".',
    );
    return undefined;
  }
  return vscode.commands.executeCommand<T | undefined>(command, arg);
}

// ---------------------------------------------------------------- palette commands

async function promptIssue(): Promise<string | undefined> {
  const editor = vscode.window.activeTextEditor;
  let value = '';
  if (editor) {
    const selection = editor.selection;
    const selected = editor.document.getText(selection).trim();
    if (selected !== '' && selection.isSingleLine) {
      value = selected;
    } else {
      const line = editor.document.lineAt(selection.active.line).text;
      value = referenceAt(line, selection.active.character) ?? '';
    }
  }
  const issue = await vscode.window.showInputBox({
    title: 'Swiss: Fix Issue',
    prompt: 'An issue: #123, owner/repo#123, an issue URL, the path of an issue file, or the issue text',
    placeHolder: '#123',
    value,
    ignoreFocusOut: true,
  });
  // No validateInput: it would greet the user with an error before they typed anything, and an
  // Enter pressed while a validation is still in flight is dropped. Empty simply means no.
  const trimmed = issue?.trim();
  return trimmed ? trimmed : undefined;
}

async function fixIssueFromPalette(): Promise<void> {
  const issue = await promptIssue();
  if (issue !== undefined) {
    await server(FIX_ISSUE, { issue });
  }
}

async function fixIssueHere(): Promise<void> {
  const pinned = pinActiveFile(vscode.window.activeTextEditor?.document.uri);
  if ('refusal' in pinned) {
    void vscode.window.showInformationMessage(pinned.refusal);
    return;
  }
  // Without `issue`, the command middleware asks for it, as for the "Fix issue here…" action.
  await server(FIX_ISSUE, pinned.arg);
}

/** One job among `jobs`: the only one without asking, else the user's pick. */
async function pickJob(jobs: JobInfo[], none: string, title: string): Promise<JobInfo | undefined> {
  if (jobs.length === 0) {
    void vscode.window.showInformationMessage(none);
    return undefined;
  }
  if (jobs.length === 1) {
    return jobs[0];
  }
  const picked = await vscode.window.showQuickPick(
    jobs.map((job) => ({
      label: job.id,
      description: job.title ?? '',
      detail: job.message ?? job.state,
      job,
    })),
    { title, placeHolder: 'Which Swiss job?' },
  );
  return picked?.job;
}

async function cancelJob(): Promise<void> {
  const job = await pickJob(
    tracker.list((j) => j.state === 'running'),
    'Swiss: no job is running.',
    'Swiss: Cancel',
  );
  if (job) {
    await server(CANCEL, { job: job.id });
  }
}

const withWinner = (j: JobInfo) => j.state === 'succeeded';

async function applyWinner(): Promise<void> {
  const job = await pickJob(
    tracker.list(withWinner),
    'Swiss: no job has a winning patch to apply. Run "Swiss: Fix Issue…" first.',
    'Swiss: Apply Winning Patch',
  );
  if (job) {
    await server(APPLY_CANDIDATE, { job: job.id });
  }
}

async function pickCandidate(title: string): Promise<{ job: string; report: JobReport; candidate: CandidateReport } | undefined> {
  const job = await pickJob(
    tracker.list((j) => j.state === 'succeeded' || j.state === 'applied' || j.state === 'no-candidate'),
    'Swiss: no job has finished yet. Run "Swiss: Fix Issue…" first.',
    title,
  );
  if (!job) {
    return undefined;
  }
  const report = await server<JobReport>(CANDIDATES, { job: job.id });
  if (!report) {
    return undefined;
  }
  if (report.candidates.length === 0) {
    void vscode.window.showInformationMessage(`Swiss: ${job.id} found no valid candidate.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(candidateItems(report), {
    title: `${title}: ${job.id} — ${report.issue.title}`,
    placeHolder: candidatesPlaceholder(report),
    matchOnDescription: true,
    matchOnDetail: true,
  });
  const candidate = report.candidates.find((c) => c.id === picked?.candidate);
  return candidate ? { job: job.id, report, candidate } : undefined;
}

async function showCandidates(): Promise<void> {
  const picked = await pickCandidate('Swiss: Show Candidates');
  if (picked) {
    await showCandidateDiff(picked.job, picked.candidate);
  }
}

async function applyChosenCandidate(): Promise<void> {
  const picked = await pickCandidate('Swiss: Apply Candidate');
  if (picked) {
    await server(APPLY_CANDIDATE, { job: picked.job, candidate: picked.candidate.id });
  }
}

async function setSecret(key: string): Promise<void> {
  const name = SECRET_KEYS.get(key) ?? key;
  const value = await vscode.window.showInputBox({
    title: `Swiss: Set ${name}`,
    prompt: `The ${name} (\`${key}\`). It is kept in VS Code's secret storage, never in settings.json. Leave empty to remove it.`,
    password: true,
    ignoreFocusOut: true,
  });
  if (value === undefined) {
    return;
  }
  // The server restarts from the secrets listener in activate(), with the new value.
  if (value.trim() === '') {
    await context.secrets.delete(secretId(key));
  } else {
    await context.secrets.store(secretId(key), value.trim());
  }
}

async function statusClick(): Promise<void> {
  switch (statusView(tracker.list()).action) {
    case 'cancel':
      return cancelJob();
    case 'candidates':
      return showCandidates();
    default:
      return fixIssueFromPalette();
  }
}

function renderStatus(): void {
  if (!status) {
    return;
  }
  const view = statusView(tracker.list());
  status.text = view.text;
  status.tooltip = view.tooltip;
}

// ---------------------------------------------------------------- parts and comparisons

async function applyHunkAtCursor(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const diagnostics = editor ? vscode.languages.getDiagnostics(editor.document.uri) : [];
  // vscode-languageclient keeps the server's `data` on the diagnostics it converts.
  const choice = editor && hunksIn(diagnostics as Array<vscode.Diagnostic & { data?: unknown }>, editor.selections);
  if (!choice) {
    void vscode.window.showInformationMessage(
      'Swiss: no hunk of a winning patch under the cursor. Put the cursor on a Swiss diagnostic of a finished job.',
    );
    return;
  }
  await server(APPLY_CANDIDATE, { job: choice.job, candidate: choice.candidate, hunks: choice.hunks });
}

function candidateUri(of: CandidateFile): vscode.Uri {
  return vscode.Uri.from({ scheme: CANDIDATE_SCHEME, ...candidateUriParts(of) });
}

/** The content provider of `swiss-candidate:` documents: the server's text of that file. */
async function candidateContent(uri: vscode.Uri): Promise<string> {
  const of = parseCandidateUri(uri.path, uri.query);
  if (!of) {
    return '';
  }
  const answer = await server<{ text: string | null; original: string | null }>(CANDIDATE_TEXT, {
    job: of.job,
    candidate: of.candidate,
    path: of.file,
  });
  return (of.side === 'original' ? answer?.original : answer?.text) ?? '';
}

/** One of `files`: the only one without asking, else the user's pick. */
async function pickFile(files: string[], title: string): Promise<string | undefined> {
  if (files.length <= 1) {
    return files[0];
  }
  const picked = await vscode.window.showQuickPick(
    files.map((file) => ({ label: file })),
    { title, placeHolder: 'Which file?' },
  );
  return picked?.label;
}

async function showCandidateDiff(job: string, candidate: CandidateReport): Promise<void> {
  const files = changedPaths(candidate.patch);
  if (files.length === 0) {
    await server(SHOW_DIFF, { job, candidate: candidate.id });
    return;
  }
  const file = await pickFile(files, `Candidate ${candidate.id} of ${job} changes ${files.length} files`);
  if (!file) {
    return;
  }
  const at = { job, candidate: candidate.id, file };
  await vscode.commands.executeCommand(
    'vscode.diff',
    candidateUri({ ...at, side: 'original' }),
    candidateUri({ ...at, side: 'patched' }),
    `${file} ↔ candidate ${candidate.id} of ${job}`,
    { preview: true },
  );
}

async function compareCandidates(): Promise<void> {
  const first = await pickCandidate('Swiss: Compare Candidates');
  if (!first) {
    return;
  }
  const { job, report, candidate: a } = first;
  const others = { ...report, candidates: report.candidates.filter((c) => c.id !== a.id) };
  if (others.candidates.length === 0) {
    void vscode.window.showInformationMessage(`Swiss: ${job} has no other candidate to compare candidate ${a.id} with.`);
    return;
  }
  const picked = await vscode.window.showQuickPick(candidateItems(others), {
    title: `Swiss: Compare candidate ${a.id} of ${job} with…`,
    placeHolder: 'The second candidate',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  const b = others.candidates.find((c) => c.id === picked?.candidate);
  if (!b) {
    return;
  }
  const file = await pickFile(comparedFiles(a, b), `Swiss: candidates ${a.id} and ${b.id} change these files`);
  if (!file) {
    return;
  }
  await vscode.commands.executeCommand(
    'vscode.diff',
    candidateUri({ job, candidate: a.id, file, side: 'patched' }),
    candidateUri({ job, candidate: b.id, file, side: 'patched' }),
    `${file}: candidate ${a.id} ↔ candidate ${b.id} of ${job}`,
    { preview: true },
  );
}
