/** Tiled 0.2.16's Zarr compressor, as its `.zarray` documents declare it (numcodecs' `Blosc.get_config()` order). */
export const BLOSC_CONFIG = { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 } as const;
