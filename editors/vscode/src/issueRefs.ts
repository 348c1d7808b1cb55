// Issue references in a line of text: `#123`, `owner/repo#123` and issue URLs
// (`…/issues/123`, GitLab's `…/-/issues/123`). The rules follow the server's
// `lsp/issue_refs.rs`, so the input box is prefilled with exactly what the server's
// "Fix issue #123" code action would send.

export interface Reference {
  text: string;
  /** Column of the first character, in UTF-16 code units (VS Code's column unit). */
  start: number;
  end: number;
}

const SEPARATOR = /[\s()[\]<>"'`,]/;
const TRAILING = /[.:;!?]+$/;
const NAME = /^[A-Za-z0-9._-]+$/;

function isNumber(s: string): boolean {
  return s.length > 0 && s.length <= 10 && /^[0-9]+$/.test(s);
}

function isIssueUrl(token: string): boolean {
  const rest = token.startsWith('https://')
    ? token.slice('https://'.length)
    : token.startsWith('http://')
      ? token.slice('http://'.length)
      : undefined;
  if (rest === undefined) {
    return false;
  }
  const at = rest.lastIndexOf('/issues/');
  if (at < 0) {
    return false;
  }
  const number = rest.slice(at + '/issues/'.length).split(/[#?]/)[0];
  return isNumber(number);
}

function isHashReference(token: string): boolean {
  const at = token.lastIndexOf('#');
  if (at < 0 || !isNumber(token.slice(at + 1))) {
    return false;
  }
  const before = token.slice(0, at);
  if (before === '') {
    return true;
  }
  const slash = before.indexOf('/');
  if (slash < 0) {
    return false;
  }
  const owner = before.slice(0, slash);
  const repo = before.slice(slash + 1);
  return NAME.test(owner) && NAME.test(repo);
}

/** Every reference in `line`, in order, duplicates included (positions differ). */
export function findReferences(line: string): Reference[] {
  const found: Reference[] = [];
  let start = 0;
  for (let i = 0; i <= line.length; i++) {
    if (i < line.length && !SEPARATOR.test(line[i])) {
      continue;
    }
    const raw = line.slice(start, i);
    const token = raw.replace(TRAILING, '');
    if (token !== '' && (isIssueUrl(token) || isHashReference(token))) {
      found.push({ text: token, start, end: start + token.length });
    }
    start = i + 1;
  }
  return found;
}

/**
 * The reference the user most likely means: the one under the cursor, else the first on the
 * line. A cursor just past a reference counts as on it, since that is where typing leaves it.
 */
export function referenceAt(line: string, character: number): string | undefined {
  const refs = findReferences(line);
  const under = refs.find((r) => r.start <= character && character <= r.end);
  return (under ?? refs[0])?.text;
}
