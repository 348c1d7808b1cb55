// What the extension knows of the server's jobs. The server pushes no job list, so this is pieced
// together from the `swiss/<job>` progress tokens (which also cover jobs the server started
// itself, e.g. from its "Re-run Swiss" button), from `swiss/jobEnded`, and from the results of
// the commands.

/** How a job ended, as `swiss/jobEnded` says (docs/lsp.md). */
export type EndState = 'succeeded' | 'no-candidate' | 'cancelled' | 'failed';
export type JobState = 'running' | EndState | 'applied';

/** The `swiss/jobEnded` notification's parameters. */
export interface JobEnded {
  job: string;
  state: EndState;
  winner: number | null;
  message: string;
  reason: string | null;
}

export const JOB_ENDED = 'swiss/jobEnded';

/** One job of `swiss.jobs`'s answer (docs/lsp.md), as much of it as the tracker reads. */
export interface JobSummary {
  job: string;
  issue: { title: string };
  state: 'running' | 'done' | 'failed' | 'cancelled';
  kept: boolean;
  winner: number | null;
  applied: number | null;
}

export interface JobInfo {
  id: string;
  title?: string;
  state: JobState;
  /** The latest progress message, or the end message. */
  message?: string;
  percentage?: number;
  winner?: number;
  /** Why a cancelled job was cancelled (`user`, `dismiss`, `shutdown`). */
  reason?: string;
  /** Order of first sight, so "the latest job" means something. */
  seq: number;
}

export interface ProgressValue {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
}

const TOKEN_PREFIX = 'swiss/';

/** The job a progress token belongs to (`swiss/job-1` → `job-1`). */
export function jobOfToken(token: string | number): string | undefined {
  return typeof token === 'string' && token.startsWith(TOKEN_PREFIX)
    ? token.slice(TOKEN_PREFIX.length)
    : undefined;
}

export class JobTracker {
  private readonly jobs = new Map<string, JobInfo>();
  private seq = 0;
  private readonly listeners: Array<() => void> = [];

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) {
      listener();
    }
  }

  private ensure(id: string): JobInfo {
    let job = this.jobs.get(id);
    if (!job) {
      job = { id, state: 'running', seq: ++this.seq };
      this.jobs.set(id, job);
    }
    return job;
  }

  started(id: string): void {
    this.ensure(id);
    this.changed();
  }

  /** Progress only shows where a job stands; how it ended comes from `ended`. */
  progress(id: string, value: ProgressValue): void {
    // A report or end for a job already dismissed must not bring it back.
    const job = value.kind === 'begin' ? this.ensure(id) : this.jobs.get(id);
    if (!job) {
      return;
    }
    if (value.kind === 'begin') {
      job.title = value.title?.replace(/^Swiss: /, '');
      job.state = 'running';
    }
    if (value.percentage !== undefined) {
      job.percentage = value.percentage;
    }
    if (value.message !== undefined) {
      job.message = value.message;
    }
    if (value.kind === 'end') {
      job.percentage = undefined;
    }
    this.changed();
  }

  /** `swiss/jobEnded`: the server's word on how the job ended. */
  ended(end: JobEnded): void {
    if (end.reason === 'dismiss') {
      // Dismissing forgets the job, whether its answer or this notification comes first.
      this.dismissed(end.job);
      return;
    }
    const job = this.ensure(end.job);
    // An apply answered before this notification stays applied.
    if (job.state !== 'applied') {
      job.state = end.state;
      job.message = end.message;
    }
    job.winner = end.winner ?? undefined;
    job.reason = end.reason ?? undefined;
    job.percentage = undefined;
    this.changed();
  }

  /**
   * The jobs `swiss.jobs` lists when the server starts: those kept from earlier sessions, so
   * "Apply Winning Patch" and "Show Candidates" offer them again.
   */
  listed(jobs: JobSummary[]): void {
    for (const summary of jobs) {
      if (this.jobs.has(summary.job) || summary.state === 'running') {
        continue;
      }
      const job = this.ensure(summary.job);
      job.title = summary.issue.title;
      job.winner = summary.winner ?? undefined;
      if (summary.applied !== null) {
        job.state = 'applied';
        job.message = `applied candidate ${summary.applied}`;
      } else if (summary.state === 'done') {
        job.state = summary.winner !== null ? 'succeeded' : 'no-candidate';
        job.message = summary.kept ? 'kept from an earlier session' : undefined;
      } else {
        job.state = summary.state;
      }
    }
    this.changed();
  }

  applied(id: string, candidate: number | undefined): void {
    const job = this.ensure(id);
    job.state = 'applied';
    job.message = `applied candidate ${candidate ?? job.winner ?? '?'}`;
    this.changed();
  }

  dismissed(id: string): void {
    this.jobs.delete(id);
    this.changed();
  }

  clear(): void {
    this.jobs.clear();
    this.changed();
  }

  get(id: string): JobInfo | undefined {
    return this.jobs.get(id);
  }

  /** Newest first. */
  list(filter?: (job: JobInfo) => boolean): JobInfo[] {
    return [...this.jobs.values()].filter(filter ?? (() => true)).sort((a, b) => b.seq - a.seq);
  }
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** Which palette action a click should run. */
  action: 'fix' | 'candidates' | 'cancel';
}

function describe(job: JobInfo): string {
  switch (job.state) {
    case 'running': {
      const pct = job.percentage !== undefined ? ` ${job.percentage}%` : '';
      return `${job.id} running${pct}${job.message ? `: ${job.message}` : ''}`;
    }
    case 'succeeded':
      return `${job.id} winner: candidate ${job.winner ?? '?'}`;
    case 'no-candidate':
      return `${job.id}: no valid candidate`;
    case 'cancelled':
      return `${job.id} cancelled`;
    case 'failed':
      return `${job.id} failed`;
    case 'applied':
      return `${job.id} ${job.message ?? 'applied'}`;
  }
}

/** The status bar: the running jobs first, else the latest job, else an idle "Swiss". */
export function statusView(jobs: JobInfo[]): StatusView {
  const running = jobs.filter((j) => j.state === 'running');
  if (running.length > 0) {
    const first = running[0];
    const more = running.length > 1 ? ` (+${running.length - 1} more)` : '';
    return {
      text: `$(sync~spin) Swiss: ${describe(first)}${more}`,
      tooltip: running.map((j) => `${j.id}: ${j.title ?? ''} — ${j.message ?? 'starting'}`).join('\n') +
        '\nClick to cancel.',
      action: 'cancel',
    };
  }
  const latest = jobs[0];
  if (!latest) {
    return { text: '$(wand) Swiss', tooltip: 'Swiss: click to fix an issue', action: 'fix' };
  }
  const lines = jobs.map((j) => `${j.id}: ${j.title ?? ''} — ${j.message ?? j.state}`);
  if (latest.state === 'succeeded') {
    return {
      text: `$(check) Swiss: ${describe(latest)}`,
      tooltip: `${lines.join('\n')}\nClick to see the candidates.`,
      action: 'candidates',
    };
  }
  return {
    text: `$(wand) Swiss: ${describe(latest)}`,
    tooltip: `${lines.join('\n')}\nClick to fix an issue.`,
    action: 'fix',
  };
}
