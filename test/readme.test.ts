// The README is the user's manual: its options tables must state exactly the defaults in DEFAULTS.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, POSSESSION_DEFAULTS } from '../lib';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

/**
 * The default cells of every table row documenting an option: `| \`name\` | type | default | meaning |`,
 * or a row whose default cell names `DEFAULTS.name` (an option documented under another name).
 */
function defaultCells(name: string): string[] {
  return readme
    .split('\n')
    .filter((line) => line.startsWith(`| \`${name}\` |`) || line.includes(`(\`DEFAULTS.${name}\`)`))
    .map((line) => line.split(' | ')[2] ?? '');
}

describe('README options tables', () => {
  it.each(Object.entries(DEFAULTS))('states the default of %s as in DEFAULTS', (name, value) => {
    // A default computed from the machine is documented by the expression that computes it.
    const literal =
      name === 'maxConcurrentAuthentications' && value === availableParallelism()
        ? 'os.availableParallelism()'
        : typeof value === 'string'
          ? `'${value}'`
          : String(value);
    const cells = defaultCells(name);
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.some((cell) => cell.includes(`\`${literal}\``))).toBe(true);
  });
});

describe('README options tables: private_key_jwt and DPoP', () => {
  /** README option name of each POSSESSION_DEFAULTS entry. */
  const names: Record<keyof typeof POSSESSION_DEFAULTS, string> = {
    clientAssertionMaxLifetime: 'clientAssertion.maxLifetime',
    clientJwksCooldown: 'clientAssertion.jwksCooldown',
    clientJwksCacheMaxAge: 'clientAssertion.jwksCacheMaxAge',
    clientJwksTimeout: 'clientAssertion.jwksTimeout',
    clientKeySetCacheSize: 'clientAssertion.keySetCacheSize',
    dpopNonceStep: 'dpop.nonceStep',
    dpopProofMaxAge: 'dpop.proofMaxAge',
    dpopReplayCacheSize: 'dpop.replayCacheSize',
    guardDpop: 'dpop',
  };
  it.each(Object.entries(POSSESSION_DEFAULTS))('states the default of %s as in POSSESSION_DEFAULTS', (key, value) => {
    const literal = typeof value === 'string' ? `'${value}'` : String(value);
    const cells = defaultCells(names[key as keyof typeof POSSESSION_DEFAULTS]);
    expect(cells.some((cell) => cell.includes(`\`${literal}\``))).toBe(true);
  });
});
