// Where the `swiss` binary is: the `swiss.server.path` setting, then PATH, then cargo's install
// folder (an editor started from a desktop menu often has a PATH without ~/.cargo/bin, which is
// where the README's `cargo install` puts the binary).

import * as path from 'path';

export interface LookupEnv {
  setting: string | undefined;
  workspaceFolder: string | undefined;
  pathVariable: string | undefined;
  home: string;
  platform: NodeJS.Platform;
  isExecutable: (file: string) => boolean;
}

export type Lookup = { found: string } | { missing: string };

function expand(setting: string, env: LookupEnv): string {
  let p = setting.trim();
  if (p === '~' || p.startsWith('~/')) {
    p = path.join(env.home, p.slice(1));
  }
  if (env.workspaceFolder) {
    p = p.replace(/\$\{workspaceFolder\}/g, env.workspaceFolder);
  }
  if (!path.isAbsolute(p) && env.workspaceFolder) {
    p = path.join(env.workspaceFolder, p);
  }
  return p;
}

export const INSTALL_HINT =
  'Build it from the Swiss repository with `cargo install --path server` (it lands in ' +
  '~/.cargo/bin), or run `cargo build --release` there and set `swiss.server.path` to ' +
  'target/release/swiss.';

export function findServer(env: LookupEnv): Lookup {
  const exe = env.platform === 'win32' ? 'swiss.exe' : 'swiss';
  if (env.setting && env.setting.trim() !== '') {
    const p = expand(env.setting, env);
    if (env.isExecutable(p)) {
      return { found: p };
    }
    return {
      missing:
        `Swiss: swiss.server.path is set to ${p}, but no executable is there. ` +
        `Fix the setting, or clear it to use \`swiss\` from PATH. ${INSTALL_HINT}`,
    };
  }
  const sep = env.platform === 'win32' ? ';' : ':';
  const dirs = (env.pathVariable ?? '').split(sep).filter((d) => d !== '');
  dirs.push(path.join(env.home, '.cargo', 'bin'));
  for (const dir of dirs) {
    const candidate = path.join(dir, exe);
    if (env.isExecutable(candidate)) {
      return { found: candidate };
    }
  }
  return {
    missing:
      'Swiss: the `swiss` language server was not found (swiss.server.path is not set, and ' +
      `there is no \`${exe}\` on PATH or in ~/.cargo/bin). ${INSTALL_HINT}`,
  };
}
