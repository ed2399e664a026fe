import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import { DEEP_OBJECT_PARAMETERS, EmptyBody } from '@agentjobs/sdk/protocol';

type Schema = Record<string, unknown>;

/**
 * The route schema as the OpenAPI document shows it, where the generator alone would describe a route otherwise
 * than the server behaves: a route that takes no body ({@link EmptyBody}) has no request body, and the
 * `name[key]=value` parameters that a querystring schema annotates ({@link DEEP_OBJECT_PARAMETERS}) are one
 * object parameter `name` (a `deepObject`, see {@link documentDeepObjects}). The route's own schema is unchanged.
 */
export const documentedSchema: SwaggerTransform = ({ schema, url }) => {
  let shown = schema as Schema | undefined;
  if (shown?.body === EmptyBody) {
    const { body: _none, ...rest } = shown;
    shown = rest;
  }
  const query = shown?.querystring as Schema | undefined;
  const deep = query?.[DEEP_OBJECT_PARAMETERS] as Schema | undefined;
  if (query && deep) {
    const { [DEEP_OBJECT_PARAMETERS]: _annotation, ...rest } = query;
    shown = { ...shown, querystring: { ...rest, properties: { ...(query.properties as Schema), ...deep } } };
  }
  return { schema: shown as typeof schema, url };
};

/**
 * Marks every query parameter whose schema is an object as `style: deepObject` (`?metadata[customer]=acme`):
 * the server parses query strings flat, so that is the only way an object parameter can be sent.
 */
export const documentDeepObjects: SwaggerTransformObject = (document) => {
  const openapi = (document as { openapiObject: Schema }).openapiObject;
  for (const item of Object.values((openapi.paths ?? {}) as Record<string, Record<string, { parameters?: Schema[] }>>)) {
    for (const operation of Object.values(item)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === 'query' && (parameter.schema as Schema | undefined)?.type === 'object') {
          parameter.style = 'deepObject';
          parameter.explode = true;
        }
      }
    }
  }
  return openapi;
};
