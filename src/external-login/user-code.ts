import { randomInt } from 'node:crypto';

/**
 * Crockford-style alphabet without the look-alikes 0/O, 1/I/L and U: 30 symbols, so an 8-character code
 * carries 8·log2(30) ≈ 39 bits (Tiled's 8 hex characters carry 32) and survives being read aloud.
 */
export const USER_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const USER_CODE_LENGTH = 8;

export function generateUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** `ABCD-EFGH` for display; users may type it back in any case, with or without dashes and spaces. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What the user typed → the stored form; null when it cannot be a user code at all. */
export function normalizeUserCode(input: string): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== USER_CODE_LENGTH) return null;
  for (const char of code) if (!USER_CODE_ALPHABET.includes(char)) return null;
  return code;
}
