// One run of the agent, from a validated configuration to its delivery account: takes the
// state folder's lock, assembles the agent, lets the hub's twin decide what runs (TwinControl
// boot), runs until the sources end or `stop` resolves, then drains and logs what left.

import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { StateLock } from '../state/lock.js';
import { Agent, type AgentOptions } from './agent.js';
import { TwinControl } from './twin.js';

export interface RunOptions extends AgentOptions {
  /** Resolves when the agent should stop (a signal, for the command line). */
  stop: Promise<void>;
  /** Called once the agent runs, before it is waited on. */
  onStarted?: (agent: Agent) => void;
  /** Called as the agent stops (before it drains). */
  onStopping?: () => void;
}

export async function runAgent(config: Config, opts: RunOptions): Promise<void> {
  // Held until this function returns, and by the kernel until the process ends: one run per state folder.
  using _stateLock = StateLock.acquire(config.stateDir, 'percept run');
  const log: Logger = opts.logger;
  const agent = new Agent(config, opts);
  const control = new TwinControl(agent, config);
  let started = false;
  // Asked to stop (a signal), as opposed to stopping on an error.
  let requested = false;
  void opts.stop.then(() => (requested = true));
  try {
    // Connects first, so the hub's twin decides what runs (see TwinControl.boot).
    await control.boot(opts.stop);
    started = true;
    opts.onStarted?.(agent);
    await Promise.race([agent.ended, opts.stop]);
  } finally {
    opts.onStopping?.();
    if (!started) log.debug('start failed; cleaning up');
    const { drained } = await agent.stop(undefined, requested);
    // A run that never started has nothing to account for: its error is the one line to read.
    if (started) {
      const s = agent.status();
      const h = s.hub;
      // The run's delivery account, so an operator (or a test) can see what left and what stayed.
      const hub = h && {
        accepted: h.accepted,
        sent: h.sent,
        acknowledged: h.acknowledged,
        retried: h.retried,
        reconnects: h.reconnects,
        pending: h.outbox.depth,
        dropped: h.outbox.dropped,
        deadLettered: h.outbox.deadLettered,
      };
      log.info(
        {
          inferred: s.pipeline.frames.inferred,
          skipped: s.pipeline.frames.skipped,
          failed: s.pipeline.frames.failed,
          corrupt: s.pipeline.frames.corrupt,
          provider: s.pipeline.models[0]?.provider,
          drained,
          ...(hub ? { hub } : {}),
        },
        'stopped',
      );
    }
  }
}
