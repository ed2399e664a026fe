import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs `npm run demo -- …args` as a newcomer would, in its own process group so a timeout can end it all. */
function runDemo(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('AGENTJOBS_')) delete env[key];
  const child = spawn('npm', ['run', '--silent', 'demo', '--', ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run demo', () => {
  it('runs a job tree with a retried specialist, prints every signed delivery verified, and exits when done', async () => {
    const run = await runDemo(['--exit-when-done', '--port', '0'], 90_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^ {2}dashboard {3}http:\/\/127\.0\.0\.1:\d+\/#key=ak_\S+/m);
    expect(out).toMatch(/^ {2}API key {5}ak_\S+$/m);
    expect(out).toMatch(/^dispatched job_\w{26} to the coordinator/m);
    // The analyst fails its first attempt and is run again.
    expect(out).toMatch(/worker {2}analyst attempt 1 threw: the price feed timed out/);
    expect(out).toMatch(/job\.running +analyst +job_\w{26} seq \d+ running attempt 2/);
    // Every transition of the tree reached the receiver with a valid signature: 5 jobs, running and completed
    // each, plus the analyst's second running.
    const verified = out.split('\n').filter((line) => line.includes('webhook ✓ signature verified'));
    expect(verified).toHaveLength(11);
    expect(verified.filter((line) => line.includes('job.completed'))).toHaveLength(5);
    expect(out).toMatch(/^completed job_\w{26} in [\d.]+ s, [\d,]+ tokens across the tree/m);
    expect(out).toContain('"recommendation": "Position Acme');
    expect(out).toMatch(/^all 11 webhook deliveries arrived and verified$/m);
  });
});
