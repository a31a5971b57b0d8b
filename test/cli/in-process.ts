// Runs the CLI's main() in-process with a given environment and clock, capturing stdout, stderr and the exit status.
import { main } from '../../lib/cli/main';

export async function runCli(
  argv: string[],
  env: Record<string, string> = {},
  now?: () => number,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { env, output: { out: (s) => (out += s), err: (s) => (err += s) }, ...(now ? { now } : {}) });
  return { code, out, err };
}
