/** The message of whatever was thrown: an Error's message, or the value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What was thrown as an Error, for listeners and loggers that need one. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
