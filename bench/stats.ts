// Small statistics helpers: medians of repeated runs and latency percentiles.

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The p-th percentile (nearest rank) of xs. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Median, p90 and max of repeated runs. */
export function summary(xs: number[]): { median: number; p90: number; max: number } {
  return { median: median(xs), p90: percentile(xs, 90), max: percentile(xs, 100) };
}

/** Latencies in ms, kept in a growing Float64Array (cheap to add at 50 000 per second). */
export class LatencyRecorder {
  private buf = new Float64Array(1 << 16);
  private n = 0;
  private sorted = false;

  add(ms: number): void {
    if (this.n === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.n++] = ms;
    this.sorted = false;
  }

  get count(): number {
    return this.n;
  }

  percentile(p: number): number {
    if (this.n === 0) return NaN;
    if (!this.sorted) {
      this.buf.subarray(0, this.n).sort();
      this.sorted = true;
    }
    const idx = Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1));
    return this.buf[idx];
  }

  max(): number {
    return this.percentile(100);
  }
}
