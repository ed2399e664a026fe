/**
 * Describes the machine a run was measured on, so that figures are never read without it.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release, platform, arch } from 'node:os';

/** Machine description stored with the results. */
export interface MachineInfo {
  /** CPU model string as the kernel reports it. */
  cpuModel: string;
  /** Logical cores visible to Node. */
  cores: number;
  /** Clock speeds (MHz) of each core as reported; the nominal speed in VMs, where the real one drifts. */
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

/**
 * Clock speeds from /proc/cpuinfo: in some VMs (this one) `os.cpus()` reports 0 MHz while the
 * kernel still shows the nominal speed.
 */
function cpuMHz(list: ReturnType<typeof cpus>): number[] {
  if (list.some((cpu) => cpu.speed > 0)) return list.map((cpu) => cpu.speed);
  try {
    return [...readFileSync('/proc/cpuinfo', 'utf8').matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => Math.round(Number(m[1])));
  } catch {
    return list.map((cpu) => cpu.speed);
  }
}

/** Reads the machine description now. */
export function describeMachine(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    cpuMHz: cpuMHz(list),
    totalMemoryMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
    date: new Date().toISOString(),
  };
}
