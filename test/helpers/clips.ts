// Real video clips made with ffmpeg from the shared photos, built once and cached by the hash
// of their command: an object cut out of one photo sliding over another at a known speed.
// `DONE_WHEN` is exactly the clip of the events issue's acceptance command.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHARED_IMAGES } from './paths.js';
import { SLIDING_CLIP_ARGS } from '../../src/bench/motion.js';
import { unavailable } from './requirements.js';

/**
 * coffee.png as background; a 400 px-wide cut-out of motorcycle_left.png's motorcycle slides left
 * to right from second 2 to second 8 (280 px/s on a 1280x720 frame, top at y = 300), 15 fps, 10 s.
 */
export const DONE_WHEN_ARGS = SLIDING_CLIP_ARGS;

/** The done-when clip's frame rate, and where its motorcycle's left edge is at media time t (px). */
export const DONE_WHEN_FPS = 15;
export const doneWhenLeft = (t: number): number => -400 + (t - 2) * 280;

/**
 * The motorcycle rides in from the left to the middle of the frame (seconds 1 to 3), back out
 * the way it came (3 to 5), away for a second, and in again (6 to 8): it is out of sight for
 * about 1.5 s, well within the 5 s timeout.
 */
export const RETURN_ARGS = [
  '-loop',
  '1',
  '-t',
  '9',
  '-framerate',
  '15',
  '-i',
  'page.png',
  '-i',
  'motorcycle_left.png',
  '-filter_complex',
  "[0:v]scale=1280:720,setsar=1[bg];[1:v]crop=620:400:100:56,scale=400:-2[p];[bg][p]overlay=x='if(between(t,1,3),-400+(t-1)*300,if(between(t,3,5),200-(t-3)*300,if(between(t,6,8),-400+(t-6)*300,-2000)))':y=250:eval=frame,format=yuv420p[v]",
  '-map',
  '[v]',
  '-r',
  '15',
  '-c:v',
  'libx264',
  '-crf',
  '18',
];

/**
 * Two motorcycles cross paths: one rides right along y = 200, the other (mirrored) rides left
 * along y = 300, each at 280 px/s from second 1 to second 7; their boxes overlap by half their
 * height and more as they pass each other around second 4.
 */
export const CROSSING_ARGS = [
  '-loop',
  '1',
  '-t',
  '8',
  '-framerate',
  '15',
  '-i',
  'page.png',
  '-i',
  'motorcycle_left.png',
  '-filter_complex',
  "[0:v]scale=1280:720,setsar=1[bg];[1:v]crop=620:400:100:56,scale=360:-2,split[a][b0];[b0]hflip[b];[bg][a]overlay=x='if(between(t,1,7),-360+(t-1)*273,-2000)':y=160:eval=frame[v1];[v1][b]overlay=x='if(between(t,1,7),1280-(t-1)*273,-2000)':y=300:eval=frame,format=yuv420p[v]",
  '-map',
  '[v]',
  '-r',
  '15',
  '-c:v',
  'libx264',
  '-crf',
  '18',
];

const CACHE = path.join(os.tmpdir(), 'percept-clips');

/** The clip ffmpeg makes with `args` (inputs named relative to the shared images), cached. */
export async function clip(args: readonly string[]): Promise<string> {
  const hash = crypto.createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 16);
  const file = path.join(CACHE, `${hash}.mp4`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(CACHE, { recursive: true });
  // Built beside, then renamed: two tests asking at once never read half a file.
  const tmp = `${file}.${process.pid}.tmp.mp4`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ffmpeg', ['-loglevel', 'error', '-y', ...args, tmp], { cwd: SHARED_IMAGES, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}: ${err}`))));
  });
  fs.renameSync(tmp, file);
  return file;
}

export const doneWhenClip = (): Promise<string> => clip(DONE_WHEN_ARGS);

/** Why clips cannot be made here (no ffmpeg), or undefined; under CI=true a missing ffmpeg throws. */
export function clipsUnavailable(): string | undefined {
  const ok = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
  return unavailable(ok ? undefined : 'ffmpeg is not installed', 'apt-get install ffmpeg (scripts/setup does)');
}
