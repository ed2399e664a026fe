import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JobsContext, Principal } from '../jobs/context.js';
import { renderEvent, streamEvents, type EventsQuery } from '../jobs/job-events.js';

/** True when the client asked for Server-Sent Events. */
export function wantsEventStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/event-stream');
}

/**
 * Serves a job's events as Server-Sent Events: `id: <evt id>`, `event: <type>`, `data: <event JSON>`. Resumes
 * after `Last-Event-ID` (which wins over `?after=`), sends a comment every 15 s of quiet so proxies keep the
 * connection, and ends when the job (and with `include=subjobs` its descendants) are finished.
 */
export async function streamEventsOverSse(
  ctx: JobsContext,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  jobId: string,
  query: EventsQuery,
): Promise<void> {
  const lastEventId = request.headers['last-event-id'];
  const after = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : query.after;
  const controller = new AbortController();
  const stop = () => controller.abort();
  reply.raw.on('close', stop);
  ctx.shutdown.addEventListener('abort', stop, { once: true });
  const raw = reply.raw;
  let streaming = false;
  try {
    await streamEvents(ctx, principal, jobId, { ...query, after }, {
      ready: () => {
        streaming = true;
        reply.hijack();
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        raw.write(': stream of job events\n\n');
      },
      send: (event) => raw.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${renderEvent(event)}\n\n`),
      idle: () => raw.write(': keep-alive\n\n'),
      signal: controller.signal,
    });
  } catch (error) {
    // Before the stream opened, the error is an ordinary error response; after, the stream just ends and the
    // client resumes with Last-Event-ID.
    if (!streaming) throw error;
    request.log.error({ err: error }, 'event stream failed');
  } finally {
    ctx.shutdown.removeEventListener('abort', stop);
    raw.off('close', stop);
  }
  if (!raw.writableEnded) raw.end();
}
