// A MeterProvider from @opentelemetry/sdk-metrics with a reader collected on demand, and a flat view of what it collected.
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';

class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export interface Point {
  attributes: Record<string, unknown>;
  value: number;
  /** Histograms: how many values were recorded. */
  count?: number;
}

/** A provider to pass as `metrics.meterProvider`, and `collect()` giving metric name → data points. */
export function testMeterProvider(): { meterProvider: MeterProvider; collect: () => Promise<Map<string, Point[]>> } {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async collect() {
      const { resourceMetrics } = await reader.collect();
      const byName = new Map<string, Point[]>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          const points = (metric.dataPoints as DataPoint<number | Histogram>[]).map((p) =>
            typeof p.value === 'number'
              ? { attributes: { ...p.attributes }, value: p.value }
              : { attributes: { ...p.attributes }, value: p.value.sum ?? 0, count: p.value.count },
          );
          byName.set(metric.descriptor.name, points);
        }
      }
      return byName;
    },
  };
}

/** The value of the point whose attributes are exactly `attributes` (0 when there is none). */
export function valueOf(points: Point[] | undefined, attributes: Record<string, unknown>): number {
  const key = JSON.stringify(Object.entries(attributes).sort());
  const point = (points ?? []).find((p) => JSON.stringify(Object.entries(p.attributes).sort()) === key);
  return point?.value ?? 0;
}
