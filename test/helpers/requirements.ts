// What a test needs from the machine. Outside CI a missing requirement skips the test and says
// why; under CI=true it fails the test instead, naming what to install, so a run can never
// pass with a whole area (the TPM, WebSockets on 443) silently untested.

/** The skip reason, or undefined when the test can run; throws under CI when it cannot. */
export function unavailable(reason: string | undefined, fix: string): string | undefined {
  if (reason === undefined) return undefined;
  if (process.env.CI === 'true') throw new Error(`${reason}; CI=true requires this test to run: ${fix}`);
  return reason;
}
