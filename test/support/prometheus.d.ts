// Types for parse-prometheus-text-format (it ships none): the parsed families as its README describes them.
declare module "parse-prometheus-text-format" {
  export interface Sample {
    value: string;
    labels?: Record<string, string>;
  }
  export interface MetricFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "SUMMARY" | "HISTOGRAM" | "UNTYPED";
    metrics: Sample[];
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
