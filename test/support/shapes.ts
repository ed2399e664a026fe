import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { expect } from 'vitest';
import { Agent, DeliveryMessage, ErrorResponse, InputRequest, Job, JobEvent, SubjobNode } from '@agentjobs/sdk/protocol';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

// The response schemas document the wire shapes in OpenAPI; the server renders bodies as text, so tests check
// that what it sends matches them.
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
for (const schema of [InputRequest, SubjobNode, Job, JobEvent, DeliveryMessage, Agent, ErrorResponse]) ajv.addSchema(schema);
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** Asserts that `value` matches the protocol schema `schema` (a response body as the OpenAPI document describes it). */
export function expectShape(schema: TSchema, value: unknown): void {
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = schema.$id ? ajv.getSchema(schema.$id)! : ajv.compile(schema)));
  if (!validate(value)) expect.fail(`${JSON.stringify(value).slice(0, 400)} does not match ${schema.$id ?? 'the schema'}: ${ajv.errorsText(validate.errors)}`);
}
