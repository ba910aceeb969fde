import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import type { DescribedDto } from './openapi-schema';

/**
 * A request DTO class: its static `parse` turns the raw body, query or path parameters into the DTO or
 * throws one `UnprocessableError` listing every problem in FastAPI's shape (`type`, `loc`, `msg`,
 * `input`), so Tiled's clients show the same errors. Unknown keys are ignored, as pydantic does:
 * Tiled's clients send extra keys.
 */
export interface RequestDto<T = unknown> extends DescribedDto {
  parse(value: unknown): T;
}

function isRequestDto(type: unknown): type is RequestDto {
  return typeof type === 'function' && typeof (type as { parse?: unknown }).parse === 'function';
}

/**
 * The one place request input is validated before a handler runs (registered as `APP_PIPE`): every
 * `@Body()`, `@Query()`, `@Param()` or custom parameter whose declared type is a `RequestDto` is
 * parsed by it; anything else passes unchanged. The class's static `openApi` schema is what the
 * OpenAPI document shows for that parameter (src/openapi/openapi-document.ts).
 *
 * Every problem of one parameter is listed; when several parameters are invalid, Nest stops at the
 * first that fails, so one parameter's problems are reported (FastAPI would list all of them).
 *
 * Not class-validator: FastAPI's 422 distinguishes `int_parsing` from `int_from_float`, coerces numeric
 * strings, reports list items by index and echoes each input, and Tiled's clients show those texts;
 * the DTOs' `parse` (built from src/common/validation/fields.ts) reproduce them exactly.
 */
@Injectable()
export class TiledValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    return isRequestDto(metadata.metatype) ? metadata.metatype.parse(value) : value;
  }
}
