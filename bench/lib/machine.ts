/**
 * Describes the machine a run was measured on, so that figures are never read without it.
 */
import { cpus, loadavg, totalmem, release, platform, arch } from 'node:os';

/** Machine description stored with the results. */
export interface MachineInfo {
  /** CPU model string as the kernel reports it. */
  cpuModel: string;
  /** Logical cores visible to Node. */
  cores: number;
  /** Clock speeds (MHz) of each core at the moment of reading; they drift on this machine. */
  cpuMHz: number[];
  /** Total memory in MiB. */
  totalMemoryMiB: number;
  /** `process.version`. */
  node: string;
  /** e.g. `linux 6.1.0 x64`. */
  os: string;
  /** 1/5/15-minute load averages when read: other work on the machine skews every figure. */
  loadAverage: number[];
  /** ISO time of reading. */
  date: string;
}

/** Reads the machine description now. */
export function describeMachine(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    cpuMHz: list.map((cpu) => cpu.speed),
    totalMemoryMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
    date: new Date().toISOString(),
  };
}
