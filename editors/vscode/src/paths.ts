// The files a candidate changes, read from the `diff --git` headers of its patch. Only the
// names: the patched texts themselves come from the server (`swiss.candidateText`).

/** The files `patch` changes, in patch order. */
export function changedPaths(patch: string): string[] {
  const paths: string[] = [];
  for (const line of patch.split('\n')) {
    if (!line.startsWith('diff --git ')) {
      continue;
    }
    const rest = line.slice('diff --git '.length);
    const path = rest.startsWith('"') ? unquote(rest) : plainPath(rest);
    if (path !== undefined && !paths.includes(path)) {
      paths.push(path);
    }
  }
  return paths;
}

/** `a/P b/P`: the server never renames, so both halves name the same P, spaces and all. */
function plainPath(rest: string): string | undefined {
  const length = (rest.length - 'a/ b/'.length) / 2;
  if (!Number.isInteger(length) || length <= 0 || !rest.startsWith('a/')) {
    return undefined;
  }
  return rest.slice(2, 2 + length);
}

const ESCAPES: Record<string, number> = { t: 9, n: 10, r: 13, '"': 34, '\\': 92 };

/** The first C-quoted name (`"a/tab\there.py"`), as git quotes awkward names, without `a/`. */
function unquote(rest: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 1; i < rest.length; i++) {
    const c = rest[i];
    if (c === '"') {
      const name = Buffer.from(bytes).toString('utf8');
      return name.startsWith('a/') ? name.slice(2) : undefined;
    }
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = rest[++i];
    if (next !== undefined && next in ESCAPES) {
      bytes.push(ESCAPES[next]);
    } else if (/^[0-7]{3}$/.test(rest.slice(i, i + 3))) {
      bytes.push(parseInt(rest.slice(i, i + 3), 8));
      i += 2;
    } else {
      return undefined;
    }
  }
  return undefined;
}
