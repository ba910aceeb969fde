import { SetMetadata } from '@nestjs/common';

/**
 * A JSON Schema (OpenAPI 3.1 dialect) describing a request DTO or a response shape. Written once, next to
 * the DTO it describes; `src/openapi/openapi-document.ts` reads it from the classes and decorators the
 * controllers declare, so the document follows the code. `title` names the component (Tiled's names
 * where Tiled has the same shape, so clients generated from either document share types).
 */
export interface JsonSchema {
  readonly title?: string;
  readonly [keyword: string]: unknown;
}

/**
 * A DTO class that describes itself. For a body DTO the schema is the body's; for a query or path DTO it
 * is an object schema whose properties are the parameters (named as they are spelled on the wire).
 */
export interface DescribedDto {
  readonly openApi?: JsonSchema;
  /** A body DTO that also accepts no body at all. */
  readonly bodyOptional?: boolean;
}

export const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
export const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
export const stringList: JsonSchema = { type: 'array', items: { type: 'string' } };

export const DECLARED_BODY = 'tiled:declared-body';

export interface DeclaredBody {
  dto: DescribedDto;
  contentType: string;
}

/**
 * Declares the body of a route that cannot bind it through a DTO-typed `@Body()`: one parsed by the handler
 * because its shape depends on a path parameter (the token route), one read through a custom parameter
 * decorator, or one a service checks against the node it writes (the catalog's writes, raw bytes included).
 */
export function DeclaresBody(dto: DescribedDto, contentType = 'application/json'): MethodDecorator {
  return SetMetadata(DECLARED_BODY, { dto, contentType } satisfies DeclaredBody);
}

export const DECLARED_QUERY = 'tiled:declared-query';

/**
 * Declares the query parameters of a route whose handler hands the raw query to a service that checks them
 * after the node is found (the catalog's read and data routes, where Tiled checks them too). A `@Query()`
 * DTO would do nothing there but cost its route a chain of promises per request, on the hottest routes.
 */
export function DeclaresQuery(dto: DescribedDto): MethodDecorator {
  return SetMetadata(DECLARED_QUERY, dto);
}
