import { Type } from '@sinclair/typebox';
import { Id, Nullable, NullableTimestamp, Page, Timestamp } from './common.js';

/** `POST /v1/keys`. */
export const CreateKeyRequest = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

export const ApiKeyView = Type.Object({
  id: Id('key'),
  name: Nullable(Type.String()),
  hint: Type.String({ description: 'The first and last characters, to recognise a key.' }),
  created_at: Timestamp,
  revoked_at: NullableTimestamp,
});
export const ApiKeyCreated = Type.Object({
  ...ApiKeyView.properties,
  key: Nullable(Type.String({ description: 'Shown once (null when an idempotent replay returns the key again).' })),
});
export const ApiKeyList = Page(ApiKeyView);
export const KeyIdParams = Type.Object({ key_id: Type.String() });

export const WebhookSecret = Type.Object({
  secret: Type.String({ description: 'whsec_…: signs webhooks of observers that have no secret of their own.' }),
  previous_secret_expires_at: NullableTimestamp,
});
export const MessageIdParams = Type.Object({ msg_id: Type.String() });
export const Health = Type.Object({ status: Type.String() });
export const RetryResponse = Type.Object({ id: Id('message'), status: Type.String(), next_attempt_at: Nullable(Timestamp) });
