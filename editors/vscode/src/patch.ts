// Reading the server's `git diff`-style patches, so a candidate can be shown with `vscode.diff`
// as the whole file it would produce rather than as patch text.

export interface Hunk {
  oldStart: number;
  /** Lines as they read before (context and removed) and after (context and added). */
  before: string[];
  after: string[];
  /** "\ No newline at end of file" seen after a line of the old or the new side. */
  oldNoEol: boolean;
  newNoEol: boolean;
}

export interface FilePatch {
  /** Repository-relative path; for a deleted file, the old path. */
  path: string;
  created: boolean;
  deleted: boolean;
  hunks: Hunk[];
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function stripSide(path: string): string | undefined {
  if (path === '/dev/null') {
    return undefined;
  }
  // git quotes nothing for plain names and puts a tab before any timestamp.
  const clean = path.split('\t')[0];
  return clean.startsWith('a/') || clean.startsWith('b/') ? clean.slice(2) : clean;
}

export function parsePatch(text: string): FilePatch[] {
  const files: FilePatch[] = [];
  let file: FilePatch | undefined;
  let hunk: Hunk | undefined;
  let oldPath: string | undefined;
  let last: ' ' | '-' | '+' | undefined;
  let header: string | undefined;
  // git writes no ---/+++ lines for an empty new file: its header alone says it exists.
  let pendingEmpty: string | undefined;
  const flushEmpty = () => {
    if (pendingEmpty !== undefined) {
      files.push({ path: pendingEmpty, created: true, deleted: false, hunks: [] });
      pendingEmpty = undefined;
    }
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      flushEmpty();
      file = undefined;
      hunk = undefined;
      oldPath = undefined;
      const b = line.lastIndexOf(' b/');
      header = b >= 0 ? line.slice(b + 3) : undefined;
      continue;
    }
    if (hunk === undefined && line.startsWith('new file mode') && oldPath === undefined) {
      pendingEmpty = header;
      continue;
    }
    if (hunk === undefined && line.startsWith('--- ')) {
      pendingEmpty = undefined;
      oldPath = line.slice(4);
      continue;
    }
    if (hunk === undefined && line.startsWith('+++ ') && oldPath !== undefined) {
      const from = stripSide(oldPath);
      const to = stripSide(line.slice(4));
      file = {
        path: (to ?? from) as string,
        created: from === undefined,
        deleted: to === undefined,
        hunks: [],
      };
      files.push(file);
      continue;
    }
    const range = HUNK_HEADER.exec(line);
    if (range && file) {
      hunk = {
        oldStart: Number(range[1]),
        before: [],
        after: [],
        oldNoEol: false,
        newNoEol: false,
      };
      file.hunks.push(hunk);
      last = undefined;
      continue;
    }
    if (!hunk) {
      continue;
    }
    if (line.startsWith('\\')) {
      if (last === '-' || last === ' ') {
        hunk.oldNoEol = true;
      }
      if (last === '+' || last === ' ') {
        hunk.newNoEol = true;
      }
      continue;
    }
    const kind = line[0];
    const body = line.slice(1);
    if (kind === ' ') {
      hunk.before.push(body);
      hunk.after.push(body);
    } else if (kind === '-') {
      hunk.before.push(body);
    } else if (kind === '+') {
      hunk.after.push(body);
    } else if (line === '') {
      // The split leaves one empty string after the patch's final newline.
      continue;
    } else {
      // A line that is none of the above ends the hunk (the next file's header).
      hunk = undefined;
      last = undefined;
      if (line.startsWith('--- ')) {
        oldPath = line.slice(4);
      }
      continue;
    }
    last = kind as ' ' | '-' | '+';
  }
  flushEmpty();
  return files;
}

/** The files a patch touches, in patch order. */
export function changedPaths(patch: string): string[] {
  return parsePatch(patch).map((f) => f.path);
}

function matchesAt(lines: string[], at: number, expected: string[]): boolean {
  if (at < 0 || at + expected.length > lines.length) {
    return false;
  }
  for (let i = 0; i < expected.length; i++) {
    if (lines[at + i] !== expected[i]) {
      return false;
    }
  }
  return true;
}

/**
 * The text `original` becomes under `file`, or undefined when a hunk no longer matches. Each
 * hunk is looked for at its line number first, then ever further away: the user may have
 * edited above it since the job read the file, and the diff view is still worth showing then.
 */
export function applyFilePatch(original: string, file: FilePatch): string | undefined {
  if (file.deleted) {
    return '';
  }
  // Split on \n alone: a CRLF file's patch lines keep their \r, exactly as its lines do here.
  const newline = '\n';
  let eol = original === '' ? true : original.endsWith('\n');
  const lines = original === '' ? [] : original.split(newline);
  if (eol && lines.length > 0) {
    lines.pop();
  }
  let offset = 0;
  for (const hunk of file.hunks) {
    // A hunk that adds to an empty side names line 0; it goes before line 1.
    const expected = Math.max(hunk.oldStart - 1, 0) + offset;
    let at = -1;
    for (let distance = 0; distance <= lines.length; distance++) {
      if (matchesAt(lines, expected - distance, hunk.before)) {
        at = expected - distance;
        break;
      }
      if (distance > 0 && matchesAt(lines, expected + distance, hunk.before)) {
        at = expected + distance;
        break;
      }
    }
    if (at < 0) {
      return undefined;
    }
    const reachesEnd = at + hunk.before.length === lines.length;
    lines.splice(at, hunk.before.length, ...hunk.after);
    offset += hunk.after.length - hunk.before.length;
    if (reachesEnd && (hunk.oldNoEol || hunk.newNoEol)) {
      eol = !hunk.newNoEol;
    }
  }
  if (lines.length === 0) {
    return '';
  }
  return lines.join(newline) + (eol ? newline : '');
}
