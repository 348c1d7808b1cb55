// Candidates as documents: a `swiss-candidate:` URI names one file as one candidate leaves it
// (or as the job read it), and the extension's content provider fills it in from the server's
// `swiss.candidateText`. Both sides of "Compare Candidates…" and "Show Candidates" are such URIs.

import { changedPaths } from './paths';

export const CANDIDATE_SCHEME = 'swiss-candidate';

/** `patched`: the file with the candidate applied; `original`: as the job read it. */
export type Side = 'patched' | 'original';

export interface CandidateFile {
  job: string;
  candidate: number;
  /** Repository-relative, with `/`. */
  file: string;
  side: Side;
}

/** The path and query of the URI for `of`; the path ends in the file's name, so the editor
 * picks its language from it. */
export function candidateUriParts(of: CandidateFile): { path: string; query: string } {
  const query = new URLSearchParams({
    job: of.job,
    candidate: String(of.candidate),
    side: of.side,
  }).toString();
  return { path: `/${of.file}`, query };
}

export function parseCandidateUri(path: string, query: string): CandidateFile | undefined {
  const params = new URLSearchParams(query);
  const job = params.get('job');
  const candidate = Number(params.get('candidate'));
  const side = params.get('side');
  if (!job || !Number.isInteger(candidate) || (side !== 'patched' && side !== 'original') || path.length < 2) {
    return undefined;
  }
  return { job, candidate, file: path.slice(1), side };
}

/** Every file either patch changes, sorted, for the pick of the file to compare. */
export function comparedFiles(a: { patch: string }, b: { patch: string }): string[] {
  return [...new Set([...changedPaths(a.patch), ...changedPaths(b.patch)])].sort();
}
