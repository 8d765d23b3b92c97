// The group's step chart (uPlot, bundled): desired over the past and next hours, actual over the past, "now" marked.
import uPlot from "uplot";
import type { ChartData } from "./series.ts";

const COLORS = { desired: "#1d4ed8", actual: "#b45309", active: "#047857", now: "#b91c1c", grid: "#d4d4d8", axis: "#27272a" };

/** Draws the "now" line and its label on the plot (canvas), after the series. */
function nowMarker(now: number) {
  return (u: uPlot) => {
    const x = Math.round(u.valToPos(now, "x", true));
    const ctx = u.ctx;
    const { top, height } = u.bbox;
    ctx.save();
    ctx.strokeStyle = COLORS.now;
    ctx.lineWidth = 2 * uPlot.pxRatio;
    ctx.setLineDash([4 * uPlot.pxRatio, 3 * uPlot.pxRatio]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = COLORS.now;
    ctx.font = `${12 * uPlot.pxRatio}px system-ui, sans-serif`;
    ctx.fillText("now", x + 4 * uPlot.pxRatio, top + 14 * uPlot.pxRatio);
    ctx.restore();
  };
}

export interface Chart {
  update(data: ChartData, zone: string): void;
  destroy(): void;
}

/** Creates the chart inside `container`, sized to it; follows the container's width. */
export function createChart(container: HTMLElement, data: ChartData, zone: string): Chart {
  let plot: uPlot | undefined;
  const height = () => (container.clientWidth < 500 ? 220 : 300);
  const stepped = uPlot.paths.stepped;
  const steps = stepped === undefined ? undefined : stepped({ align: 1 });

  const build = (d: ChartData, tz: string) => {
    plot?.destroy();
    const opts: uPlot.Options = {
      width: Math.max(280, container.clientWidth),
      height: height(),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), tz),
      scales: {
        x: { time: true, range: () => [d.from, d.to] },
        y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil((max ?? 0) * 1.15) + 1)] },
      },
      axes: [
        { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid } },
        { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid }, label: "servers", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
      ],
      series: [
        { label: `time (${tz})` },
        { label: "desired", stroke: COLORS.desired, width: 2.5, ...(steps === undefined ? {} : { paths: steps }), points: { show: false } },
        { label: "actual (all servers)", stroke: COLORS.actual, width: 2, dash: [8, 4], ...(steps === undefined ? {} : { paths: steps }), points: { show: false } },
        { label: "ACTIVE", stroke: COLORS.active, width: 1.5, dash: [2, 3], ...(steps === undefined ? {} : { paths: steps }), points: { show: false } },
      ],
      hooks: { draw: [nowMarker(d.now)] },
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
    plot = new uPlot(opts, [d.xs, d.desired, d.actual, d.active] as uPlot.AlignedData, container);
    // The canvas is a picture to assistive technology; the numbers are in the table below it.
    const at = d.xs.indexOf(d.now);
    const canvas = container.querySelector("canvas");
    canvas?.setAttribute("role", "img");
    canvas?.setAttribute(
      "aria-label",
      `Step chart of desired and actual servers, times in ${tz}: desired now ${d.desired[at] ?? "unknown"}, actual now ${d.actual[at] ?? "unknown"}. The same numbers are in the table below.`,
    );
    // For people and tests: how many values each series drew.
    const count = (values: (number | null)[]) => String(values.filter((v) => v !== null).length);
    container.dataset["desiredPoints"] = count(d.desired);
    container.dataset["actualPoints"] = count(d.actual);
  };

  build(data, zone);
  const observer = new ResizeObserver(() => {
    if (plot !== undefined && Math.abs(plot.width - container.clientWidth) > 4) plot.setSize({ width: Math.max(280, container.clientWidth), height: height() });
  });
  observer.observe(container);
  return {
    update: (d, tz) => build(d, tz),
    destroy() {
      observer.disconnect();
      plot?.destroy();
      plot = undefined;
    },
  };
}
