import { UnprocessableError } from '../../common/errors/tiled-http.error';
import { CreateNodeDto, PatchMetadataDto, PutDataSourceDto, RegisterNodeDto, ReplaceMetadataDto } from './catalog-write-bodies.dto';

/** The 422 detail a parse throws, as Tiled's clients receive it. */
function detailOf(parse: () => unknown): unknown {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(UnprocessableError);
    const { status, detail } = error as UnprocessableError;
    return { status, detail };
  }
  throw new Error('parsed without a problem');
}

describe('catalog write bodies, parsed before the handler', () => {
  it("takes POST /metadata's body as Tiled's client sends it, defaults filled in", () => {
    const dto = CreateNodeDto.parse({ structure_family: 'array', metadata: { a: 1 }, specs: ['xdi', { name: 'x', version: '1' }], data_sources: [{ structure: {}, mimetype: null }], id: 'scan1' });
    expect(dto).toBeInstanceOf(CreateNodeDto);
    expect(dto).toMatchObject({ family: 'array', metadata: { a: 1 }, id: 'scan1', accessBlob: null, specs: [{ name: 'xdi', version: null }, { name: 'x', version: '1' }] });
    expect(dto.sources).toEqual([{ structure: {}, properties: {}, assets: false, mimetype: null }]);
    expect(CreateNodeDto.parse({ structure_family: 'container', id: '' }).id).toBeNull();
  });

  it("answers pydantic's shapes for a wrong family, a metadata list and a spec that is not one", () => {
    expect(detailOf(() => CreateNodeDto.parse({ structure_family: 'composite' }))).toEqual({
      status: 422,
      detail: [{ type: 'enum', loc: ['body', 'structure_family'], msg: "Input should be 'array', 'awkward', 'bytes', 'container', 'ragged', 'sparse' or 'table'", input: 'composite' }],
    });
    expect(detailOf(() => ReplaceMetadataDto.parse({ metadata: [1] }))).toEqual({ status: 422, detail: [{ type: 'dict_type', loc: ['body', 'metadata'], msg: 'Input should be a valid dictionary', input: [1] }] });
    expect(detailOf(() => PatchMetadataDto.parse('x'))).toEqual({
      status: 422,
      detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: 'x' }],
    });
    expect(detailOf(() => RegisterNodeDto.parse({ structure_family: 'table', data_sources: [] }))).toEqual({
      status: 422,
      detail: [{ type: 'value_error', loc: ['body', 'data_sources'], msg: 'A registered table has exactly one data source, got 0', input: [] }],
    });
    expect(detailOf(() => PutDataSourceDto.parse({ data_source: { id: 'one' } }))).toEqual({
      status: 422,
      detail: [{ type: 'int_type', loc: ['body', 'data_source', 'id'], msg: 'Input should be a valid integer: the id of the data source to replace', input: 'one' }],
    });
  });
});
