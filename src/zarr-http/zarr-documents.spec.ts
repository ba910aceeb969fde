import { arrayNode } from '../catalog/tree/tree-builders';
import { zarrJsonArray } from './zarr-documents';

describe('zarrJsonArray', () => {
  it('should leave dimension_names out of an array without dims (the Zarr v3 spec allows a list or nothing; tensorstore refuses null)', async () => {
    const document = await zarrJsonArray(arrayNode(Float64Array.from([1, 2, 3, 4]), { shape: [2, 2] }));
    expect(document).not.toHaveProperty('dimension_names');
  });

  it('should name the dimensions of an array with dims', async () => {
    const document = await zarrJsonArray(arrayNode(Float64Array.from([1, 2, 3, 4]), { shape: [2, 2], dims: ['y', 'x'] }));
    expect(document.dimension_names).toEqual(['y', 'x']);
  });
});
