// VS Code settings (`swiss.<section>.<field>`) to the server's settings schema (the sections that
// `swiss config --schema` prints, the same as `swiss.toml`).

/** Settings that configure the extension itself; the server would warn about them. */
export const EXTENSION_ONLY_KEYS: ReadonlySet<string> = new Set(['server.path', 'trace.server']);

/**
 * Credentials travel in initializationOptions from VS Code's SecretStorage, never through
 * settings.json (which is often committed or synced). Key: the schema key; value: how the
 * palette names it.
 */
export const SECRET_KEYS: ReadonlyMap<string, string> = new Map([
  ['backend.api_key', 'API Key'],
  ['github.token', 'GitHub Token'],
  ['gitlab.token', 'GitLab Token'],
]);

export type ServerOptions = Record<string, Record<string, unknown>>;

/** The schema keys (`backend.urls`, …) among package.json's contributed properties. */
export function schemaKeys(properties: Record<string, unknown>): string[] {
  return Object.keys(properties)
    .filter((k) => k.startsWith('swiss.'))
    .map((k) => k.slice('swiss.'.length))
    .filter((k) => !EXTENSION_ONLY_KEYS.has(k));
}

/**
 * Only the values the user set go to the server. Sending package.json's defaults too would
 * override the repository's `swiss.toml` and the environment, which rank below the editor.
 * An empty string counts as unset: clearing a text box in the settings UI leaves "" behind, and
 * no server field means anything by it.
 */
export function serverOptions(
  keys: readonly string[],
  explicitValue: (key: string) => unknown,
): ServerOptions {
  const out: ServerOptions = {};
  for (const key of keys) {
    const value = explicitValue(key);
    if (value === undefined || value === null || value === '') {
      continue;
    }
    const dot = key.indexOf('.');
    if (dot < 0) {
      continue;
    }
    const section = key.slice(0, dot);
    const field = key.slice(dot + 1);
    (out[section] ??= {})[field] = value;
  }
  return out;
}

/** The initializationOptions: the settings plus the stored credentials. */
export function initializationOptions(
  options: ServerOptions,
  secrets: ReadonlyMap<string, string | undefined>,
): ServerOptions {
  const out: ServerOptions = { ...options };
  for (const [key, value] of secrets) {
    if (!value) {
      continue;
    }
    const dot = key.indexOf('.');
    const section = key.slice(0, dot);
    out[section] = { ...(out[section] ?? {}), [key.slice(dot + 1)]: value };
  }
  return out;
}

/** The most specific value the user set: folder over workspace over user settings. */
export function explicitFrom(inspected: {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
} | undefined): unknown {
  if (!inspected) {
    return undefined;
  }
  return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue;
}
