import type { Config } from '../config';
import type { Db } from '../store/database';
import type { BruteForceGuard } from '../verify/brute-force';
import type { ClientAddresses } from '../verify/fast/address';
import { defaultConsoleDir, loadConsoleAssets } from './assets';
import type { SessionGuardDeps } from './guard';
import { ConsoleSessions } from './sessions';

export { sessionAwareGuard } from './guard';
export { consoleRoutes } from './routes';

/** The web console's parts for one app: its sessions, with what their checks need, and its built files. */
export function consoleParts(deps: {
  config: Config;
  db: Db;
  clock: () => number;
  bruteForce: BruteForceGuard;
  addresses: ClientAddresses;
}): SessionGuardDeps & { assets: ReturnType<typeof loadConsoleAssets> } {
  const sessions = new ConsoleSessions({
    db: deps.db,
    clock: deps.clock,
    lifetimes: {
      idleMs: deps.config.consoleIdleMinutes * 60_000,
      absoluteMs: deps.config.consoleSessionHours * 3_600_000,
    },
  });
  return {
    sessions,
    bruteForce: deps.bruteForce,
    clientAddress: deps.addresses.clientAddress,
    trust: deps.addresses.trust,
    assets: loadConsoleAssets(deps.config.consoleDir ?? defaultConsoleDir()),
  };
}
