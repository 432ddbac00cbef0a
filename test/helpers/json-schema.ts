type Schema = Record<string, any>;

/** The object a local `$ref` (`#/components/schemas/Webhook`) points at in `document`, or undefined. */
export function resolveRef(document: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: any = document;
  for (const part of ref.slice(2).split('/')) node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node;
}

function isUtcTimestamp(value: string): boolean {
  return !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

/**
 * Where `value` breaks `schema`, for the part of JSON Schema 2020-12 that OpenAPI documents of this
 * size use (`$ref`, `type`, `enum`, `const`, `required`, `properties`, `additionalProperties: false`,
 * `items`, `pattern`, `format: date-time`). With `strict`, an object property the schema does not
 * name is an error too, so a document cannot fall behind the answers. Empty when the value fits.
 */
export function schemaErrors(document: Schema, schema: Schema, value: unknown, { strict = false, path = '$' } = {}): string[] {
  if (schema.$ref) {
    const target = resolveRef(document, schema.$ref);
    return target ? schemaErrors(document, target, value, { strict, path }) : [`${path}: unresolved $ref ${schema.$ref}`];
  }
  const errors: string[] = [];
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const types: string[] = [schema.type].flat();
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number')))
      errors.push(`${path}: is ${actual}, not ${types.join(' or ')}`);
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  if ('const' in schema && value !== schema.const) errors.push(`${path}: is not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
    errors.push(`${path}: does not match ${schema.pattern}`);
  if (typeof value === 'string' && schema.format === 'date-time' && !isUtcTimestamp(value))
    errors.push(`${path}: is not an ISO-8601 UTC date-time`);
  if (actual === 'array' && schema.items) {
    (value as unknown[]).forEach((item, index) =>
      errors.push(...schemaErrors(document, schema.items, item, { strict, path: `${path}[${index}]` })),
    );
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in object)) errors.push(`${path}: lacks "${name}"`);
    const properties: Schema = schema.properties ?? {};
    for (const [name, property] of Object.entries(object)) {
      if (properties[name]) errors.push(...schemaErrors(document, properties[name], property, { strict, path: `${path}.${name}` }));
      else if (schema.properties && (strict || schema.additionalProperties === false)) errors.push(`${path}: "${name}" is not documented`);
    }
  }
  return errors;
}
