import { Type, type Static } from '@sinclair/typebox';
import { Id, Metadata, Nullable, Page, PageQuery, Timestamp } from './common.js';
import { Brief, Observer, ObserverView } from './jobs.js';

/** What a fire does while the schedule's previous job has not ended. */
export const OVERLAP_POLICIES = ['skip', 'allow', 'cancel_previous'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

const Cron = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Five fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *" or "0 9 * * MON-FRI".',
  examples: ['*/5 * * * *'],
});
const Timezone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'An IANA time zone name, e.g. "Europe/Paris"; fire times follow its daylight-saving changes. Default "UTC".',
});
const Overlap = Type.Union(
  OVERLAP_POLICIES.map((p) => Type.Literal(p)),
  { description: 'While the previous job of the schedule runs: skip the fire (default), allow another, or cancel_previous.' },
);

/** `POST /v1/schedules` (SPEC §11). */
export const CreateScheduleRequest = Type.Object(
  {
    agent_id: Id('agent', 'The agent that runs each fire.'),
    brief: Brief,
    cron: Cron,
    timezone: Type.Optional(Timezone),
    overlap: Type.Optional(Overlap),
    observers: Type.Optional(Type.Array(Observer, { maxItems: 10, description: 'Observers of every job the schedule dispatches.' })),
    metadata: Type.Optional(Metadata),
    paused: Type.Optional(Type.Boolean({ description: 'Created paused: it fires only once resumed (or triggered).' })),
  },
  { additionalProperties: false },
);
export type CreateScheduleRequest = Static<typeof CreateScheduleRequest>;

/** `PATCH /v1/schedules/{id}`: the fields to change. */
export const UpdateScheduleRequest = Type.Partial(
  Type.Object(
    {
      agent_id: Id('agent'),
      brief: Brief,
      cron: Cron,
      timezone: Timezone,
      overlap: Overlap,
      observers: Type.Array(Observer, { maxItems: 10 }),
      metadata: Metadata,
      paused: Type.Boolean({ description: 'true pauses the schedule; false resumes it from now (missed fires are not run).' }),
    },
    { additionalProperties: false },
  ),
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateScheduleRequest = Static<typeof UpdateScheduleRequest>;

/** A schedule as the API shows it. */
export const Schedule = Type.Object(
  {
    id: Id('schedule'),
    agent_id: Id('agent'),
    brief: Brief,
    cron: Type.String(),
    timezone: Type.String(),
    overlap: Overlap,
    observers: Type.Array(ObserverView),
    metadata: Metadata,
    paused: Type.Boolean(),
    next_run_at: Nullable(Timestamp, { description: 'The next fire time; null while paused.' }),
    last_run_at: Nullable(Timestamp, { description: 'The fire time of the last fire (run or skipped).' }),
    last_job_id: Nullable(Id('job'), { description: 'The job of the last fire that dispatched one.' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Schedule' },
);
export type Schedule = Static<typeof Schedule>;

export const ScheduleList = Page(Type.Ref(Schedule));
export const ListSchedulesQuery = Type.Object(
  { ...PageQuery, agent_id: Type.Optional(Type.String({ maxLength: 40 })) },
  { additionalProperties: false },
);
export type ListSchedulesQuery = Static<typeof ListSchedulesQuery>;
export const ScheduleIdParams = Type.Object({ schedule_id: Type.String() });

/** `DELETE /v1/schedules/{id}`. */
export const DeletedSchedule = Type.Object({ id: Id('schedule'), deleted: Type.Literal(true) });
