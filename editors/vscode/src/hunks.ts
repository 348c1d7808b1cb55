// Finding the hunk of a winning patch under the cursor: the server's winner diagnostics carry
// `data: {job, candidate, hunk}` (docs/lsp.md), and "Swiss: Apply Hunk" applies the hunks under
// the cursor or the selections, and no other.

export interface HunkRef {
  job: string;
  candidate: number;
  hunk: number;
}

/** What the extension reads of a diagnostic; vscode.Diagnostic fits it. */
export interface DiagnosticLike {
  source?: string;
  code?: string | number | { value: string | number };
  range: { start: { line: number }; end: { line: number } };
  data?: unknown;
}

function codeOf(d: DiagnosticLike): string | number | undefined {
  return typeof d.code === 'object' ? d.code.value : d.code;
}

/** The hunks of one candidate to apply together. */
export interface HunkChoice {
  job: string;
  candidate: number;
  hunks: number[];
}

/** Lines from `start` to `end`, as a selection covers them. */
export interface LineSpan {
  start: { line: number };
  end: { line: number };
}

function hunkOf(d: DiagnosticLike): HunkRef | undefined {
  if (d.source !== 'swiss' || codeOf(d) !== 'winner') {
    return undefined;
  }
  const data = d.data as Partial<HunkRef> | undefined;
  if (typeof data?.job === 'string' && typeof data.candidate === 'number' && typeof data.hunk === 'number') {
    return { job: data.job, candidate: data.candidate, hunk: data.hunk };
  }
  return undefined;
}

const overlaps = (d: DiagnosticLike, span: LineSpan) =>
  Math.min(span.start.line, span.end.line) <= d.range.end.line &&
  d.range.start.line <= Math.max(span.start.line, span.end.line);

/**
 * The winner hunks whose diagnostics the selections touch (a cursor is a selection of one
 * line), of the job and candidate of the first one found; undefined when there is none.
 */
export function hunksIn(diagnostics: readonly DiagnosticLike[], spans: readonly LineSpan[]): HunkChoice | undefined {
  let choice: HunkChoice | undefined;
  for (const d of diagnostics) {
    const hunk = hunkOf(d);
    if (!hunk || !spans.some((span) => overlaps(d, span))) {
      continue;
    }
    choice ??= { job: hunk.job, candidate: hunk.candidate, hunks: [] };
    if (hunk.job === choice.job && hunk.candidate === choice.candidate && !choice.hunks.includes(hunk.hunk)) {
      choice.hunks.push(hunk.hunk);
    }
  }
  choice?.hunks.sort((a, b) => a - b);
  return choice;
}
