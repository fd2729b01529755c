/** A mistake in how a command was called (missing source, empty range): reported by commander with the command's help, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
