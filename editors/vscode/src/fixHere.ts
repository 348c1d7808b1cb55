// "Swiss: Fix Issue Here…": the palette twin of the "Fix issue here…" code action. It pins the
// active file (`swiss.fixIssue {files}`, docs/lsp.md) and leaves the issue to the same prompt
// "Fix Issue…" shows, so the model's localization is skipped for a file the user already knows.

/** The part of a `vscode.Uri` this needs, so the rule is testable without VS Code. */
export interface DocumentUri {
  scheme: string;
  toString(): string;
}

export type Pinned = { arg: { files: string[] } } | { refusal: string };

/**
 * The `swiss.fixIssue` argument for the active editor's document, without `issue` (the command
 * middleware asks for it), or why there is none: the server reads only files on disk.
 */
export function pinActiveFile(uri: DocumentUri | undefined): Pinned {
  if (!uri) {
    return { refusal: 'Swiss: open the file the fix belongs in, then run "Swiss: Fix Issue Here…" again.' };
  }
  if (uri.scheme !== 'file') {
    return {
      refusal: `Swiss: "Fix Issue Here…" needs a file saved in the repository, not a ${uri.scheme}: document. Save it first, or run "Swiss: Fix Issue…".`,
    };
  }
  return { arg: { files: [uri.toString()] } };
}
