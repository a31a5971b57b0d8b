// Type declarations for passport-oauth2-client-password, which ships none.
declare module 'passport-oauth2-client-password' {
  type VerifyFunction = (
    clientId: string,
    clientSecret: string,
    done: (err: unknown, client?: unknown, info?: unknown) => void,
  ) => void;

  class ClientPasswordStrategy {
    constructor(verify: VerifyFunction);
    constructor(options: { passReqToCallback?: boolean }, verify: VerifyFunction);
    name: string;
    authenticate(req: unknown, options?: unknown): void;
  }

  export = ClientPasswordStrategy;
}
