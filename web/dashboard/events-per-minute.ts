// Events per minute for the chart: the last MINUTES whole minutes, oldest first.
export const MINUTES = 30

export interface MinuteSeries {
  /** Start of each minute, in seconds since the epoch (uPlot's x unit). */
  minutes: number[]
  counts: number[]
}

export function eventsPerMinute(published: string[], now: number): MinuteSeries {
  const currentMinute = Math.floor(now / 60_000)
  const first = currentMinute - MINUTES + 1
  const counts = new Array<number>(MINUTES).fill(0)
  for (const at of published) {
    const minute = Math.floor(Date.parse(at) / 60_000)
    if (minute >= first && minute <= currentMinute) counts[minute - first] += 1
  }
  return { minutes: counts.map((_count, index) => (first + index) * 60), counts }
}
