import type { TableColumn, TablePartition } from '../tree/tree.types';
import { importEsm } from '../../common/esm';
import { columnValues } from './table-columns';
import { PARQUET_TYPE } from '../data/parquet-types';

interface HyparquetWriter {
  parquetWriteBuffer(options: { columnData: { name: string; data: unknown[]; type: string; nullable?: boolean }[] }): ArrayBuffer;
}

/** One Parquet file with every partition's rows, columns typed as pyarrow types them (hyparquet-writer). */
export async function encodeParquet(columns: readonly TableColumn[], partitions: readonly TablePartition[]): Promise<Buffer> {
  const { parquetWriteBuffer } = await importEsm<HyparquetWriter>('hyparquet-writer');
  const columnData = columns.map((c) => ({ name: c.name, data: columnValues(c, partitions), type: PARQUET_TYPE[c.type] }));
  return Buffer.from(parquetWriteBuffer({ columnData }));
}
