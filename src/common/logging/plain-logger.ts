/**
 * The slice of Nest's Logger these classes use. They take it as a parameter (the module passes
 * `new Logger(...)`) so rule classes load without Nest, which Jest cannot import (ESM-only packages).
 */
export interface PlainLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
