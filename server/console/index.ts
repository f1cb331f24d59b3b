import type { Config } from '../config';
import type { Db } from '../store/database';
import type { BruteForceGuard } from '../verify/brute-force';
import type { ClientAddresses } from '../verify/fast/address';
import type { Verifier } from '../verify/pipeline';
import { defaultConsoleDir, loadConsoleAssets } from './assets';
import type { SessionGuardDeps } from './guard';
import { ConsoleSessions, type SessionLifetimes } from './sessions';

export { consoleBuilt } from './assets';
export { sessionAwareGuard } from './guard';
export { consoleRoutes } from './routes';
export { deleteEndedSessions } from './sessions';

/** Where the built console is read from: KEYWARD_CONSOLE_DIR, or beside the compiled server. */
export function consoleDirOf(config: Pick<Config, 'consoleDir'>): string {
  return config.consoleDir ?? defaultConsoleDir();
}

/** How long console sessions last, from the configuration. */
export function sessionLifetimes(config: Pick<Config, 'consoleIdleMinutes' | 'consoleSessionHours'>): SessionLifetimes {
  return { idleMs: config.consoleIdleMinutes * 60_000, absoluteMs: config.consoleSessionHours * 3_600_000 };
}

/** The web console's parts for one app: its sessions, with what their checks need, and its built files. */
export function consoleParts(deps: {
  config: Config;
  db: Db;
  clock: () => number;
  bruteForce: BruteForceGuard;
  addresses: ClientAddresses;
  verifier: Pick<Verifier, 'spendRateLimit'>;
}): SessionGuardDeps & { assets: ReturnType<typeof loadConsoleAssets> } {
  const sessions = new ConsoleSessions({
    db: deps.db,
    clock: deps.clock,
    lifetimes: sessionLifetimes(deps.config),
    verifier: deps.verifier,
  });
  return {
    sessions,
    bruteForce: deps.bruteForce,
    clientAddress: deps.addresses.clientAddress,
    trust: deps.addresses.trust,
    assets: loadConsoleAssets(consoleDirOf(deps.config)),
  };
}
