/**
 * TIFF files and numbered TIFF sequences, as Tiled 0.2.16 serves `image/tiff` and
 * `multipart/related;type=image/tiff`. geotiff reads the image file directories and decodes only the
 * strips or tiles a window needs.
 *
 * | Source | Shape | Blocks |
 * |---|---|---|
 * | one page | height × width (× samples when more than one) | row bands of at most MAX_BLOCK_BYTES |
 * | several pages | pages × height × width (× samples) | one page (row bands if a page is larger) |
 * | a sequence of files | files × (shape of the first file) | one file (row bands if a file is larger) |
 */
import { basename } from 'node:path';
import type { GeoTIFF, GeoTIFFImage } from 'geotiff';
import type { ArrayNode, Metadata } from '../catalog/tree/tree.types';
import { lazyRequire } from '../common/lazy-require';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { blockRegion, boundedBlockShape, chunksFor, dtypeOf, type ElementType, fileError, typedArrayOf } from './array-support';

/** Loaded by the first TIFF file opened. */
const geotiff = lazyRequire<typeof import('geotiff')>('geotiff');

/** Tag arrays longer than this (strip offsets of a large image, colour maps) are left out of the metadata. */
const MAX_TAG_ARRAY = 1024;

interface PageLayout {
  height: number;
  width: number;
  samples: number;
  type: ElementType;
}

function layoutOf(image: GeoTIFFImage, what: string): PageLayout {
  const samples = image.getSamplesPerPixel();
  const format = image.getSampleFormat(0);
  const bits = image.getBitsPerSample(0);
  for (let s = 1; s < samples; s++) {
    if (image.getSampleFormat(s) !== format || image.getBitsPerSample(s) !== bits) throw new AdapterError(`${what}: Samples of different types in one pixel are not supported`, 415);
  }
  if (bits % 8 !== 0) throw new AdapterError(`${what}: ${bits}-bit samples are not supported (8, 16, 32 or 64 bits are)`, 415);
  const kinds: Record<number, ElementType['kind']> = { 1: 'u', 2: 'i', 3: 'f' };
  const kind = kinds[format];
  if (!kind) throw new AdapterError(`${what}: TIFF sample format ${format} is not supported (unsigned, signed and float are)`, 415);
  return { height: image.getHeight(), width: image.getWidth(), samples, type: { kind, itemsize: bits / 8, littleEndian: true } };
}

function sameLayout(a: PageLayout, b: PageLayout): boolean {
  return a.height === b.height && a.width === b.width && a.samples === b.samples && a.type.kind === b.type.kind && a.type.itemsize === b.type.itemsize;
}

/** The first page's tags, as Tiled's metadata shows them (tag name → value). */
function tagsOf(image: GeoTIFFImage): Metadata {
  const out: Metadata = {};
  let tags: Record<string, unknown>;
  try {
    tags = image.getFileDirectory().toObject();
  } catch {
    // Tags geotiff cannot parse do not stop the pixels from being served.
    return out;
  }
  for (const [name, value] of Object.entries(tags)) {
    if (ArrayBuffer.isView(value) || Array.isArray(value)) {
      const list = Array.from(value as ArrayLike<unknown>);
      if (list.length <= MAX_TAG_ARRAY) out[name] = list.map((v) => (typeof v === 'bigint' ? Number(v) : v));
    } else if (typeof value === 'bigint') {
      out[name] = Number(value);
    } else if (typeof value === 'number' || typeof value === 'string') {
      out[name] = value;
    }
  }
  return out;
}

async function withTiff<T>(path: string, what: string, use: (tiff: GeoTIFF) => Promise<T>): Promise<T> {
  let tiff: GeoTIFF | undefined;
  try {
    tiff = await geotiff().fromFile(path);
    return await use(tiff);
  } catch (error) {
    throw fileError(what, error);
  } finally {
    // geotiff keeps the file descriptor open until closed; a catalog of thousands of images must not.
    await Promise.resolve(tiff?.close()).catch(() => undefined);
  }
}

/** Reads rows [y0, y1) of one page as C-order (row, column, sample) bytes; geotiff decodes only the strips or tiles they cover. */
async function readRows(image: GeoTIFFImage, y0: number, y1: number, width: number): Promise<Uint8Array> {
  const raster = (await image.readRasters({ window: [0, y0, width, y1], interleave: true })) as unknown as ArrayBufferView;
  return new Uint8Array(raster.buffer, raster.byteOffset, raster.byteLength);
}

/**
 * An array over pages: `pageOf(i)` gives the path and page index of the i-th leading index
 * (undefined `leading` means a single page with no leading axis).
 */
function pagedArray(
  what: string,
  layout: PageLayout,
  leading: number | undefined,
  pageOf: (index: number) => { path: string; page: number; name: string },
  metadata: Metadata,
): ArrayNode {
  const dtype = dtypeOf(layout.type, what);
  const pageShape = layout.samples > 1 ? [layout.height, layout.width, layout.samples] : [layout.height, layout.width];
  const shape = leading === undefined ? pageShape : [leading, ...pageShape];
  const pageBlock = boundedBlockShape(pageShape, layout.type.itemsize);
  // Bands of whole rows: geotiff decodes whole strips or tiles, so narrower blocks would decode the same bytes twice.
  const bandRows = pageBlock[0] < layout.height ? pageBlock[0] : layout.height;
  const blockShape = leading === undefined ? [bandRows, ...pageShape.slice(1)] : [1, bandRows, ...pageShape.slice(1)];
  const chunks = chunksFor(shape, blockShape);
  return {
    family: 'array',
    metadata,
    dtype,
    shape,
    chunks,
    async readBlock(block) {
      const { offset, shape: count } = blockRegion(chunks, block);
      const rowAxis = leading === undefined ? 0 : 1;
      const where = pageOf(leading === undefined ? 0 : offset[0]);
      return withTiff(where.path, where.name, async (tiff) => {
        const image = await tiff.getImage(where.page);
        if (!sameLayout(layoutOf(image, where.name), layout)) throw new AdapterError(`${where.name}: Page ${where.page} differs in size or type from the first`, 422);
        const y0 = offset[rowAxis];
        const bytes = await readRows(image, y0, y0 + count[rowAxis], layout.width);
        return typedArrayOf(dtype, bytes);
      });
    },
  };
}

async function openTiff(source: AdapterSource): Promise<ArrayNode> {
  const path = source.paths[0];
  const name = basename(path);
  return withTiff(path, name, async (tiff) => {
    const count = await tiff.getImageCount();
    const first = await tiff.getImage(0);
    const layout = layoutOf(first, name);
    for (let i = 1; i < count; i++) {
      if (!sameLayout(layoutOf(await tiff.getImage(i), `${name} page ${i}`), layout)) {
        throw new AdapterError(`${name}: Pages differ in size or type; only stacks of identical pages are served`, 415);
      }
    }
    return pagedArray(name, layout, count > 1 ? count : undefined, (page) => ({ path, page, name }), tagsOf(first));
  });
}

/** Numbered TIFF files stacked along a new first axis; each file must hold one page like the first. */
async function openTiffSequence(source: AdapterSource): Promise<ArrayNode> {
  const paths = source.paths;
  if (paths.length === 0) throw new AdapterError('A TIFF sequence needs at least one file', 400);
  const name = basename(paths[0]);
  return withTiff(paths[0], name, async (tiff) => {
    const first = await tiff.getImage(0);
    const layout = layoutOf(first, name);
    return pagedArray(`${name} (sequence of ${paths.length})`, layout, paths.length, (index) => ({ path: paths[index], page: 0, name: basename(paths[index]) }), {});
  });
}

export const tiffAdapter: AdapterRegistration = {
  mimetype: 'image/tiff',
  extensions: ['.tif', '.tiff'],
  open: openTiff,
};

export const tiffSequenceAdapter: AdapterRegistration = {
  mimetype: 'multipart/related;type=image/tiff',
  // Sequences are recognised by numbered names, never by extension alone: that stays tiffAdapter's.
  extensions: [],
  open: openTiffSequence,
};
