// A video file's own frame rate, asked of ffprobe: the tracker counts its timeouts in the
// source's frames, and a file is read faster or slower than it was filmed.

import { execFile } from 'node:child_process';

/** The average frame rate of the file's first video stream, or null when ffprobe cannot say. */
export function probeFps(file: string, timeoutMs = 10_000): Promise<number | null> {
  return new Promise((resolve) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=avg_frame_rate,r_frame_rate', '-of', 'default=noprint_wrappers=1', '--', file],
      { timeout: timeoutMs },
      (err, stdout) => {
        if (err) return resolve(null);
        for (const key of ['avg_frame_rate', 'r_frame_rate']) {
          const m = new RegExp(`^${key}=(\\d+)(?:/(\\d+))?$`, 'm').exec(stdout);
          const fps = m ? Number(m[1]) / Number(m[2] ?? 1) : NaN;
          if (Number.isFinite(fps) && fps > 0 && fps <= 1000) return resolve(fps);
        }
        resolve(null);
      },
    );
  });
}
