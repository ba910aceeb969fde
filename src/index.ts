/** Package entry point: the TypeScript client of tiled-ts and the public authenticator plugin API. */
export * from './client';
export * from './plugins-api';
