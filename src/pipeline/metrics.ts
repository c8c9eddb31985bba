// The pipeline's series in the agent's metrics registry: frames captured, dropped by reason,
// skipped by the motion gate, and inferred. A rebuilt pipeline gets the same series and
// continues them; the sources keep their own plain counts, which each pipeline follows.

import { Follower, type Metrics } from '../metrics.js';
import type { SourceStats } from '../capture/source.js';

export interface SourceFollowers {
  update(stats: SourceStats): void;
}

export function pipelineMetrics(m: Metrics) {
  const captured = m.counter('percept_frames_captured_total', 'Frames read from all sources');
  const dropped = m.counter(
    'percept_frames_dropped_total',
    'Frames not inferred, by reason: latest_frame_wins (a live source had a newer frame), corrupt, failed',
    ['reason'],
  );
  for (const reason of ['latest_frame_wins', 'corrupt', 'failed']) dropped.zero({ reason });
  const inferred = m.counter('percept_frames_inferred_total', 'Frames with a detection result');
  // Apart from dropped: a skipped frame was read and judged, on purpose not worth a model run.
  const skipped = m.counter(
    'percept_frames_skipped_total',
    'Frames kept from the model by the motion gate, by reason: no_motion (nothing moved, no live track, no keyframe due)',
    ['reason'],
  );
  skipped.zero({ reason: 'no_motion' });
  return {
    captured,
    dropped,
    inferred,
    skipped,
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
