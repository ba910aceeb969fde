/** Mimetypes named in more than one place (adapters, the registry's defaults, the walker). */
export const XLSX_MIMETYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const PARQUET_MIMETYPE = 'application/x-parquet';
export const ZARR_MIMETYPE = 'application/x-zarr';
