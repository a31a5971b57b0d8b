// Where the library reports what an operator should see; declared in core so the core needs nothing from the option layer.

/** Where the library reports what an operator should see. Never given a secret or a token. */
export interface Logger {
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

/** The default logger: the console, prefixed with the library's name. */
export const consoleLogger: Logger = {
  warn: (message) => console.warn(`[express-client-credentials] ${message}`),
  error: (message, error) =>
    console.error(`[express-client-credentials] ${message}`, error instanceof Error ? error.message : ''),
};
