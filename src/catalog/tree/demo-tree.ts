import { arrayNode, containerNode, generatedArrayNode, tableNode } from './tree-builders';
import type { ContainerNode, TablePartition, TreeNode } from './tree.types';

/** Deterministic pseudo-random numbers (mulberry32), so every start serves identical data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COLORS = ['red', 'green', 'blue'] as const;
const STATIONS = ['north', 'south', 'east', 'west'] as const;
export const MANY_CHILDREN = 200;

/** The reference server's table: x int64, y float64, name string; 2 partitions of 3 rows. */
function referenceTable(): TreeNode {
  const part = (start: number): TablePartition => ({
    x: [start, start + 1, start + 2],
    y: [start * 0.2, (start + 1) * 0.2, (start + 2) * 0.2],
    name: ['abcdef'.charAt(start), 'abcdef'.charAt(start + 1), 'abcdef'.charAt(start + 2)],
  });
  return tableNode([part(0), part(3)], {
    columns: [
      { name: 'x', type: 'int64' },
      { name: 'y', type: 'float64' },
      { name: 'name', type: 'string' },
    ],
    metadata: { kind: 'table' },
    specs: ['dataframe'],
  });
}

function measurements(): TreeNode {
  const random = prng(42);
  const sizes = [5, 8, 3, 6];
  let row = 0;
  const partitions = sizes.map((n) => {
    const index: number[] = [];
    const temperature: number[] = [];
    const station: string[] = [];
    const valid: boolean[] = [];
    for (let i = 0; i < n; i++, row++) {
      index.push(row);
      temperature.push(Math.round((15 + 10 * random()) * 100) / 100);
      station.push(STATIONS[row % STATIONS.length]);
      valid.push(row % 5 !== 3);
    }
    return { index, temperature, station, valid };
  });
  return tableNode(partitions, {
    columns: [
      { name: 'index', type: 'int64' },
      { name: 'temperature', type: 'float64' },
      { name: 'station', type: 'string' },
      { name: 'valid', type: 'bool' },
    ],
    metadata: { kind: 'measurements', units: { temperature: 'degC' }, rows: row },
    specs: [{ name: 'dataframe', version: null }],
  });
}

function many(): ContainerNode {
  const children = new Map<string, TreeNode>();
  for (let i = 0; i < MANY_CHILDREN; i++) {
    const key = `item_${String(i).padStart(3, '0')}`;
    children.set(
      key,
      generatedArrayNode({
        dtype: 'int32',
        shape: [4],
        value: (j) => i * 4 + j,
        metadata: {
          index: i,
          parity: i % 2 === 0 ? 'even' : 'odd',
          color: COLORS[i % 3],
          group: i % 7,
          score: Math.round(((i * 37) % 101) * 1.5 * 100) / 100,
          tags: i % 10 === 0 ? ['round', 'tenth'] : ['plain'],
          ...(i % 4 === 0 ? { flagged: true } : {}),
        },
        specs: i % 5 === 0 ? ['quintet'] : [],
      }),
    );
  }
  return containerNode(children, { metadata: { description: `a container of ${MANY_CHILDREN} small arrays for pagination` } });
}

/**
 * The built-in demo tree. It holds the reference server's nodes (small, medium, ints, table,
 * nested/vec) so captured exchanges can be compared, a 2048×1024 float64 array in 8 MiB blocks for
 * the benchmark, a 200-child container, arrays of every common dtype and shape, multi-partition
 * tables and metadata with nested objects and dates. Large arrays are generated on first read.
 */
export function demoTree(): ContainerNode {
  const random = prng(7);
  const noise = Float64Array.from({ length: 6 * 8 }, () => random());
  return containerNode(
    {
      small: generatedArrayNode({ dtype: 'float64', shape: [10, 10], value: (i) => i * 0.25, metadata: { units: 'counts', kind: 'small' } }),
      medium: generatedArrayNode({ dtype: 'float64', shape: [100, 100], chunkShape: [50, 50], value: (i) => i, metadata: { kind: 'medium' } }),
      ints: generatedArrayNode({ dtype: 'int32', shape: [20], value: (i) => i, metadata: {} }),
      table: referenceTable(),
      nested: containerNode(
        {
          vec: generatedArrayNode({ dtype: 'float64', shape: [5], value: (i) => i + 1.5, metadata: {} }),
          deeper: containerNode(
            { cube: generatedArrayNode({ dtype: 'float64', shape: [4, 5, 6], chunkShape: [2, 5, 3], value: (i) => i / 2, dims: ['z', 'y', 'x'], metadata: { kind: 'cube' } }) },
            { metadata: { level: 2 } },
          ),
        },
        { metadata: { description: 'a nested container', sample: { id: 7, tags: ['x', 'y'] } } },
      ),
      big: generatedArrayNode({
        dtype: 'float64',
        shape: [2048, 1024],
        chunkShape: [1024, 1024],
        value: (i) => (i % 1024) + Math.floor(i / 1024) / 1000,
        metadata: { kind: 'big', description: '2048×1024 float64 in two 8 MiB blocks' },
      }),
      arrays: containerNode(
        {
          float64_1d: arrayNode(Float64Array.from({ length: 12 }, (_, i) => Math.sin(i) * 10), { metadata: { dtype: 'float64' } }),
          float32_2d: generatedArrayNode({ dtype: 'float32', shape: [3, 4], value: (i) => i * 0.5 - 1, metadata: { dtype: 'float32' } }),
          int64_1d: generatedArrayNode({ dtype: 'int64', shape: [10], value: (i) => (i - 5) * 1_000_000_007, metadata: { dtype: 'int64' } }),
          int32_2d: generatedArrayNode({ dtype: 'int32', shape: [6, 7], chunkShape: [4, 3], value: (i) => i - 20, metadata: { dtype: 'int32' } }),
          uint8_image: generatedArrayNode({ dtype: 'uint8', shape: [16, 16], value: (i) => (i * 7) % 256, dims: ['row', 'col'], metadata: { dtype: 'uint8' }, specs: ['image'] }),
          bool_1d: generatedArrayNode({ dtype: 'bool', shape: [9], value: (i) => i % 3 === 0, metadata: { dtype: 'bool' } }),
          noise: arrayNode(noise, { shape: [6, 8], chunkShape: [3, 4], metadata: { dtype: 'float64', seed: 7 } }),
          chunked_f32: generatedArrayNode({
            dtype: 'float32',
            shape: [2048, 1280],
            chunkShape: [512, 640],
            value: (i) => (i % 1280) * 0.5,
            metadata: { dtype: 'float32', description: 'a chunked 2-D array of 10 MiB' },
          }),
        },
        { metadata: { description: 'arrays of several dtypes and shapes' } },
      ),
      tables: containerNode({ measurements: measurements() }, { metadata: { description: 'tables with several partitions' } }),
      experiments: containerNode(
        {
          run_1: containerNode(
            { signal: generatedArrayNode({ dtype: 'float64', shape: [50], value: (i) => Math.cos(i / 5), metadata: { units: 'V' } }) },
            {
              metadata: { sample: { name: 'silicon', temperature: 295.5 }, operator: 'alice', started: new Date(Date.UTC(2024, 0, 15, 9, 30, 0)), scan_id: 1, tags: ['calibration'] },
              specs: [{ name: 'xdi', version: '1.0' }],
            },
          ),
          run_2: containerNode(
            { signal: generatedArrayNode({ dtype: 'float64', shape: [50], value: (i) => Math.sin(i / 5), metadata: { units: 'V' } }) },
            {
              metadata: { sample: { name: 'germanium', temperature: 77.0 }, operator: 'bob', started: new Date(Date.UTC(2024, 1, 2, 14, 0, 0)), scan_id: 2, tags: ['production', 'cold'] },
              specs: [{ name: 'xdi', version: '1.0' }],
            },
          ),
        },
        { metadata: { description: 'runs with nested metadata, dates and specs' } },
      ),
      many: many(),
    },
    { metadata: { title: 'tiled-ts demo tree', version: 1 } },
  );
}
