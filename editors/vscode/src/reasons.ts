// Why a candidate lost and how far to trust the winner, in the words the server's hover and CLI
// use (`reasons` and `confidence` of `swiss.candidates`, docs/json.md), so the pick reads the same.

export type Reason =
  | { kind: 'breaks-tests'; count: number; tests: string[] }
  | { kind: 'still-reproduced' }
  | { kind: 'reproduction-unclear' }
  | { kind: 'never-verified' }
  | { kind: 'verification-failed'; error: string }
  | { kind: 'not-tested' }
  | { kind: 'filtered-out' }
  | { kind: 'fewer-votes'; votes: number; winner_votes: number }
  | { kind: 'same-votes-lower-similarity'; similarity: number; winner_similarity: number }
  | { kind: 'lower-score'; score: number; winner_score: number }
  | { kind: 'later-sample'; first_sample: number; winner_first_sample: number };

export type Caveat =
  | { kind: 'unverified' }
  | { kind: 'no-regression-check' }
  | { kind: 'no-reproduction-test'; note: string | null }
  | { kind: 'reproduction-not-passed' }
  | { kind: 'winner-not-tested' }
  | { kind: 'early-stop'; received: number; requested: number };

export interface Confidence {
  share: number;
  votes: number;
  samples: number;
  band: 'high' | 'medium' | 'low';
  resolve_rate: number;
  source: string;
  caveats: Caveat[];
}

function breaks(count: number, tests: string[]): string {
  let text = `breaks ${count} regression test(s)`;
  if (tests.length > 0) {
    text += `: ${tests.join(', ')}`;
    const more = count - tests.length;
    if (more > 0) {
      text += ` and ${more} more`;
    }
  }
  return text;
}

export function describeReason(reason: Reason): string {
  switch (reason.kind) {
    case 'breaks-tests':
      return breaks(reason.count, reason.tests ?? []);
    case 'still-reproduced':
      return 'still prints Issue reproduced';
    case 'reproduction-unclear':
      return 'the reproduction test prints no clear verdict with it (Other issues, or it failed)';
    case 'never-verified':
      return 'never verified (sandbox none or no test command)';
    case 'verification-failed':
      return `not verified: ${reason.error}`;
    case 'not-tested':
      return 'not verified: the job ended before its tests ran';
    case 'filtered-out':
      return 'dropped by the regression filter';
    case 'fewer-votes':
      return `fewer votes than the winner (${reason.votes} vs ${reason.winner_votes})`;
    case 'same-votes-lower-similarity':
      return `same votes, lower similarity (${reason.similarity.toFixed(4)} vs ${reason.winner_similarity.toFixed(4)})`;
    case 'lower-score':
      return `more votes, but its lower similarity leaves it behind (score ${reason.score.toFixed(4)} vs ${reason.winner_score.toFixed(4)})`;
    case 'later-sample':
      return `same score, first seen later (sample ${reason.first_sample} vs ${reason.winner_first_sample})`;
    default:
      // A kind newer than this extension: its name still says something.
      return (reason as { kind: string }).kind;
  }
}

/** `; `-separated, as the server's `describe_all`. */
export function describeReasons(reasons: Reason[] | undefined): string {
  return (reasons ?? []).map(describeReason).join('; ');
}

export function describeCaveat(caveat: Caveat): string {
  switch (caveat.kind) {
    case 'unverified':
      return 'verification was off';
    case 'no-regression-check':
      return 'no candidate was regression-checked';
    case 'no-reproduction-test':
      return `no valid reproduction test${caveat.note ? ` (${caveat.note})` : ''}`;
    case 'reproduction-not-passed':
      return 'the winner did not pass the reproduction test';
    case 'winner-not-tested':
      return 'the sandbox could not test the winner';
    case 'early-stop':
      return `sampling stopped early: the share is over ${caveat.received} of ${caveat.requested} requested samples`;
    default:
      return (caveat as { kind: string }).kind;
  }
}

function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** One line: the band, its figure, and what lowers it; the hover has the source. */
export function confidenceText(confidence: Confidence | null | undefined): string | undefined {
  if (!confidence) {
    return undefined;
  }
  let text = `confidence ${confidence.band}: ${percent(confidence.share)} of the samples agree (${confidence.votes} of ${confidence.samples}), ${percent(confidence.resolve_rate)} resolved in SWE-Swiss's runs`;
  const caveats = (confidence.caveats ?? []).map(describeCaveat);
  if (caveats.length > 0) {
    text += `; lowered: ${caveats.join('; ')}`;
  }
  return text;
}
