// The `swiss.candidates` result (the object `swiss fix --json` prints) and how candidates read
// in a quick pick.

import { changedPaths } from './paths';
import { Confidence, confidenceText, describeReasons, Reason } from './reasons';

export interface CandidateReport {
  id: number;
  patch: string;
  votes: number;
  similarity: number;
  score: number;
  regression_failures: number | null;
  /** Seen from the issue: `false` means the reproduction test passes with the patch. */
  reproduced: boolean | null;
  filtered_out: boolean;
  selected: boolean;
  /** Why it lost; empty for the winner (absent from servers before reasons). */
  reasons?: Reason[];
}

export interface JobReport {
  issue: { title: string; body?: string; url?: string | null };
  localized_files: string[];
  candidates: CandidateReport[];
  winner: number | null;
  winner_patch: string | null;
  confidence?: Confidence | null;
}

export interface CandidateItem {
  label: string;
  description: string;
  detail: string;
  candidate: number;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function reproductionText(reproduced: boolean | null): string {
  if (reproduced === null || reproduced === undefined) {
    return 'not run';
  }
  return reproduced ? 'fails' : 'passes';
}

/**
 * One item per unique candidate, in the server's order (best first). The numbers are the ones the
 * hover table shows, so the pick and the hover can be compared at a glance.
 */
export function candidateItems(report: JobReport): CandidateItem[] {
  return report.candidates.map((c) => {
    const winner = c.selected || c.id === report.winner;
    const regression =
      c.regression_failures === null || c.regression_failures === undefined
        ? 'not run'
        : String(c.regression_failures);
    const detail = [
      `regression failures: ${regression}`,
      `reproduction: ${reproductionText(c.reproduced)}`,
      c.filtered_out ? 'filtered out' : 'kept by the filters',
      changedPaths(c.patch).join(', '),
      describeReasons(c.reasons),
    ]
      .filter((part) => part !== '')
      .join(' · ');
    return {
      label: `${winner ? '$(star-full) ' : ''}Candidate ${c.id}${winner ? ' (winner)' : ''}`,
      description: `score ${c.score.toFixed(4)} · ${plural(c.votes, 'vote')} · similarity ${c.similarity.toFixed(4)}`,
      detail,
      candidate: c.id,
    };
  });
}

/** The picker's placeholder: the order, and how far to trust the winner. */
export function candidatesPlaceholder(report: JobReport): string {
  const confidence = confidenceText(report.confidence);
  return confidence ? `Candidates, best first — ${confidence}` : 'Candidates, best first';
}
