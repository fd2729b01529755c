/** Scenario durations: `90s`, `2m`, `1h30m`, `1d`, or a number of seconds. */
export function parseDuration(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
    if (parts.length > 0 && parts.map((p) => p[0]).join('') === value.replace(/\s+/g, '')) {
      const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 } as const;
      return parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
    }
  }
  throw new Error(`${where}: "${String(value)}" is not a duration (like 90s, 2m, 1h30m, or a number of seconds)`);
}

/** `2m23s`, `1h05m`, `45s`: how the game day prints simulated durations. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
