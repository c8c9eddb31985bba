// Creates an ONNX Runtime session with the configured execution providers, trying each in
// order and falling back explicitly, so the provider really in use is known and reported.
// onnxruntime-node itself would silently drop an unavailable provider.

import * as ort from 'onnxruntime-node';
import { PerceptError } from '../errors.js';
import { FILE_CAPS, readRegularFile } from '../read-file.js';

export interface SessionResult {
  session: ort.InferenceSession;
  provider: string;
  /** One line per provider that was asked for and could not be used. */
  fallbacks: string[];
}

export async function createSession(modelPath: string, providers: string[], threads: number): Promise<SessionResult> {
  const bytes = await readRegularFile(modelPath, {
    what: 'model file',
    maxBytes: FILE_CAPS.model,
    openCode: 'ERR_MODEL_NOT_FOUND',
    hint: 'check --model-path or the manifest\'s "file"',
  });
  const order = [...new Set([...providers, 'cpu'])];
  const fallbacks: string[] = [];
  for (const provider of order) {
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        logSeverityLevel: 3,
      });
      return { session, provider, fallbacks };
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      if (!/backend not found|shared library|ExecutionProvider|not available/i.test(msg)) {
        throw new PerceptError(
          'ERR_MODEL_INVALID',
          `model file ${modelPath} is not a valid ONNX model: ${msg.split('\n')[0]}; check that it is an .onnx export`,
        );
      }
      fallbacks.push(`${provider}: ${msg.split('\n')[0]}`);
    }
  }
  throw new PerceptError('ERR_PROVIDER', `no execution provider could run ${modelPath}: ${fallbacks.join('; ')}`);
}
