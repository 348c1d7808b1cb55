// Finding the hunk of a winning patch under the cursor: the server's winner diagnostics carry
// `data: {job, candidate, hunk}` (docs/lsp.md), and "Swiss: Apply Hunk" applies that hunk alone.

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

/** The winner hunk whose diagnostic covers `line`, or undefined. */
export function hunkAt(diagnostics: readonly DiagnosticLike[], line: number): HunkRef | undefined {
  for (const d of diagnostics) {
    if (d.source !== 'swiss' || codeOf(d) !== 'winner') {
      continue;
    }
    if (line < d.range.start.line || line > d.range.end.line) {
      continue;
    }
    const data = d.data as Partial<HunkRef> | undefined;
    if (typeof data?.job === 'string' && typeof data.candidate === 'number' && typeof data.hunk === 'number') {
      return { job: data.job, candidate: data.candidate, hunk: data.hunk };
    }
  }
  return undefined;
}
