// How a run stops: SIGINT, SIGTERM and SIGHUP (the terminal closed) become one clean stop, so
// the agent drains rather than dies undrained; a second signal, a second or more after the
// first, exits at once (one that arrives with the first, a process-group signal delivered
// twice, does not).

import type { Logger } from '../log.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface SignalStop {
  /** Resolves at the first signal. */
  stopped: Promise<void>;
  /** Stops listening. */
  dispose(): void;
}

export function stopOnSignals(log: Logger): SignalStop {
  let firstSignalAt = 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    if (firstSignalAt && Date.now() - firstSignalAt > 1000) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    if (firstSignalAt) return;
    firstSignalAt = Date.now();
    log.info({ signal: sig }, 'stopping');
    stop();
  };
  for (const sig of SIGNALS) process.on(sig, onSignal);
  return { stopped, dispose: () => SIGNALS.forEach((sig) => process.off(sig, onSignal)) };
}
