// Type declarations for passport-oauth2-client-password, which ships none.
declare module 'passport-oauth2-client-password' {
  type Done = (err: unknown, client?: unknown, info?: unknown) => void;
  type VerifyFunction = (clientId: string, clientSecret: string, done: Done) => void;
  /** With `passReqToCallback: true` the request comes first. */
  type VerifyFunctionWithRequest = (req: import('express').Request, clientId: string, clientSecret: string, done: Done) => void;

  class ClientPasswordStrategy {
    constructor(verify: VerifyFunction);
    constructor(options: { passReqToCallback?: false }, verify: VerifyFunction);
    constructor(options: { passReqToCallback: true }, verify: VerifyFunctionWithRequest);
    name: string;
    authenticate(req: unknown, options?: unknown): void;
  }

  export = ClientPasswordStrategy;
}
