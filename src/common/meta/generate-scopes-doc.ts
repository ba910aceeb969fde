import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderScopesDoc } from './scopes-doc';

/** `npm run docs:scopes`: rewrite docs/scopes.md from the registry (run from dist/src/common/meta). */
export const SCOPES_DOC_PATH = join(__dirname, '..', '..', '..', '..', 'docs', 'scopes.md');

if (require.main === module) {
  writeFileSync(SCOPES_DOC_PATH, renderScopesDoc());
  process.stdout.write(`wrote ${SCOPES_DOC_PATH}\n`);
}
