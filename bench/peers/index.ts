/**
 * The peer scenarios, in the order their rounds run within a group.
 */
import type { Scenario } from '../lib/scenario.js';
import { bullmqAdd, bullmqAddBulk, bullmqEndToEnd, bullmqLatency } from './bullmq.js';
import { fastifyBareDispatch, fastifyFloorEndToEnd, fastifyFloorLatency } from './fastify-bare.js';
import { pgBossEndToEnd, pgBossInsert, pgBossLatency, pgBossSend } from './pg-boss.js';

/** Every peer scenario, fresh instances (scenarios hold their processes and connections). */
export function peerScenarios(): Scenario[] {
  return [
    fastifyBareDispatch(),
    fastifyBareDispatch('durable'),
    fastifyBareDispatch('checked'),
    bullmqAdd(),
    pgBossSend(),
    bullmqAddBulk(),
    pgBossInsert(),
    bullmqEndToEnd(),
    pgBossEndToEnd(),
    fastifyFloorEndToEnd(),
    fastifyFloorEndToEnd(true),
    bullmqLatency(),
    fastifyFloorLatency(),
    pgBossLatency(),
  ];
}
