// The pipeline's series in the agent's metrics registry: frames captured, dropped by reason and
// inferred. A rebuilt pipeline gets the same series and continues them; the sources keep their
// own plain counts, which each pipeline follows into the series.

import { Follower, type Metrics } from '../metrics.js';
import type { SourceStats } from '../capture/source.js';

export interface SourceFollowers {
  update(stats: SourceStats): void;
}

export function pipelineMetrics(m: Metrics) {
  const captured = m.counter('percept_frames_captured_total', 'Frames read from all sources');
  const dropped = m.counter('percept_frames_dropped_total', 'Frames not inferred, by reason: latest_frame_wins (a live source had a newer frame), corrupt, failed', ['reason']);
  for (const reason of ['latest_frame_wins', 'corrupt', 'failed']) dropped.zero({ reason });
  const inferred = m.counter('percept_frames_inferred_total', 'Frames with a detection result');
  return {
    captured,
    dropped,
    inferred,
    /** Followers for one source's counts, from 0 (a new source object counts from 0). */
    follow(): SourceFollowers {
      const c = new Follower(captured);
      const latest = new Follower(dropped, { reason: 'latest_frame_wins' });
      const corrupt = new Follower(dropped, { reason: 'corrupt' });
      return {
        update(s: SourceStats) {
          c.update(s.captured);
          latest.update(s.dropped);
          corrupt.update(s.corrupt);
        },
      };
    },
  };
}

export type PipelineMetrics = ReturnType<typeof pipelineMetrics>;
