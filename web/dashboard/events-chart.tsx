import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { MINUTES, type MinuteSeries } from './events-per-minute'

const WIDTH = 520
const HEIGHT = 160

/** Events per minute over the last half hour, as bars (uPlot draws into a canvas it owns). */
export function EventsChart({ series }: { series: MinuteSeries }) {
  const host = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)

  useEffect(() => {
    plot.current = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { size: 40 }],
        series: [
          {},
          {
            label: 'events',
            points: { show: false },
            fill: 'rgba(37, 99, 235, 0.35)',
            stroke: '#2563eb',
            paths: uPlot.paths.bars!({ size: [0.8] }),
          },
        ],
      },
      [[], []],
      host.current!,
    )
    return () => plot.current?.destroy()
  }, [])

  useEffect(() => {
    plot.current?.setData([series.minutes, series.counts])
  }, [series])

  const total = series.counts.reduce((sum, count) => sum + count, 0)
  return (
    <section className="panel" aria-labelledby="chart">
      <h2 id="chart">Events per minute</h2>
      <div
        ref={host}
        role="img"
        aria-label={`${total} events in the last ${MINUTES} minutes`}
        data-testid="events-chart"
        data-total={total}
      />
    </section>
  )
}
