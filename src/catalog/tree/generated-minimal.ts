import { arrayNode, chunkLengths, containerNode, generatedArrayNode, tableNode } from './tree-builders';
import type { ContainerNode } from './tree.types';

/** The names under which Tiled's configurations name this tree. */
export const GENERATED_MINIMAL_TREES: ReadonlySet<string> = new Set(['tiled.examples.generated_minimal:tree', 'tiled.examples.generated_minimal']);

/**
 * Tiled's `tiled.examples.generated_minimal:tree`, which several of Tiled's example configurations serve
 * (google_auth.yml, orcid_auth.yml, small_single_user_demo.yml): arrays of ones `A` (100×100) and `B`
 * (100×100×100), a table `C` of 100 rows (x=1, y=2, z=3) in three partitions of 34, 34 and 32 rows as
 * dask splits it, and `D`, an xarray Dataset served as Tiled's DatasetAdapter serves one: a container
 * of its data variables, then its coordinates.
 */
export function generatedMinimalTree(): ContainerNode {
  const partitions = chunkLengths(100, 34).map((rows) => ({
    x: new Float64Array(rows).fill(1),
    y: new Float64Array(rows).fill(2),
    z: new Float64Array(rows).fill(3),
  }));
  const dataset = containerNode(
    {
      temperature: arrayNode(new BigInt64Array([100n, 99n, 98n]), { dims: ['time'], metadata: { attrs: {} }, specs: ['xarray_data_var'] }),
      time: arrayNode(new BigInt64Array([1n, 2n, 3n]), { dims: ['time'], metadata: { attrs: {} }, specs: ['xarray_coord'] }),
    },
    { metadata: { attrs: {} }, specs: ['xarray_dataset'] },
  );
  return containerNode(
    {
      A: generatedArrayNode({ dtype: 'float64', shape: [100, 100], value: () => 1 }),
      B: generatedArrayNode({ dtype: 'float64', shape: [100, 100, 100], value: () => 1 }),
      C: tableNode(partitions),
      D: dataset,
    },
    { metadata: { thing: 'stuff' } },
  );
}
