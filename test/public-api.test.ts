// The front door stays narrow: the main entry exports what an app uses; internals live on documented subpaths (README "Public API and subpaths").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as main from '../lib';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
};
const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('public API', () => {
  it('exports from the main entry only what an app uses', () => {
    expect(Object.keys(main).sort()).toEqual(
      [
        'BearerTokenMissingError', 'DEFAULTS', 'InsufficientScopeError', 'InvalidClientError', 'InvalidRequestError', 'InvalidScopeError',
        'InvalidTargetError', 'InvalidTokenError', 'InvalidDpopProofError', 'UseDpopNonceError', 'OAuthError', 'ServerError', 'TemporarilyUnavailableError', 'TooManyAttemptsError',
        'UnauthorizedClientError', 'UnsupportedGrantTypeError', 'UnsupportedTokenTypeError', 'adminRouter', 'closeDefaultOAuth',
        'createOAuth', 'createResourceServer', 'defaultOAuth', 'oauthErrorHandler', 'requireScope', 'tokenRouter', 'withAuth', 'METRIC_NAMES',
      ].sort(),
    );
  });

  it('gives every subpath export its types, mirrored in typesVersions for node10 resolution, and documents it in the README', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue;
      expect(target).toEqual({ types: expect.stringMatching(/^\.\/dist\/.+\.d\.ts$/), default: expect.stringMatching(/^\.\/dist\/.+\.js$/) });
      const { types } = target as { types: string };
      expect(types.replace(/\.d\.ts$/, '.js')).toBe((target as { default: string }).default);
      const name = `express-client-credentials${subpath.slice(1)}`;
      expect(readme).toContain(`\`${name}\``);
      if (subpath !== '.') expect(pkg.typesVersions['*']?.[subpath.slice(2)]).toEqual([types.slice(2)]);
    }
  });
});
