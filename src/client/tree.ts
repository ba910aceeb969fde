import { Container } from './nodes';

/**
 * The lines of a text drawing of a container's descendants (`├── a`, `│   └── b`), as Tiled's
 * `gen_tree` draws them. Lazy: children are fetched page by page only as lines are taken, so a
 * caller that stops after 20 lines never walks a large catalog.
 */
export async function* treeLines(container: Container, lastFlags: readonly boolean[] = []): AsyncGenerator<string> {
  const children = container.items();
  // One child of look-ahead tells whether the current one is the last, without asking for the count.
  let current = await children.next();
  while (!current.done) {
    const [key, node] = current.value;
    const next = await children.next();
    const isLast = Boolean(next.done);
    yield drawLine(key, [...lastFlags, isLast]);
    if (node instanceof Container) yield* treeLines(node, [...lastFlags, isLast]);
    current = next;
  }
}

function drawLine(key: string, lastFlags: readonly boolean[]): string {
  const ancestors = lastFlags.slice(0, -1).map((last) => (last ? '    ' : '│   '));
  return `${ancestors.join('')}${lastFlags[lastFlags.length - 1] ? '└── ' : '├── '}${key}`;
}
