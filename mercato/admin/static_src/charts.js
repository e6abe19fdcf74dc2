// The console's chart bundle: only the parts of ECharts the dashboard draws with (bars and a
// line on a grid, with a tooltip, rendered as SVG). scripts/bootstrap builds it with esbuild into
// mercato/web/static/build/charts.min.js (git-ignored), served as /static/build/charts.min.js.
// Legend and dataset components are left out on purpose: every component costs kilobytes, and
// the page names the series in its own HTML (and shows the numbers in a table).
import { init, use } from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, TooltipComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

use([BarChart, LineChart, GridComponent, TooltipComponent, SVGRenderer]);

window.MercatoCharts = {
  /** Draw into ``element`` (SVG); returns the ECharts instance (``setOption``, ``resize``). */
  init: (element) => init(element, null, { renderer: "svg" }),
};
