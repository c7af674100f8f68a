// The chart library the pages use: ECharts' core with only the charts and components they draw
// (lines, the zone map; titles, tooltips, legends, grids, zoom, the colour scale, threshold
// lines, ARIA descriptions) and the canvas renderer — bundled by ui/build.sh with esbuild into
// vendor/echarts.min.js, about half of ECharts' full build, which every chart page parses.
import * as echarts from 'echarts/core';
import {LineChart, MapChart} from 'echarts/charts';
import {AriaComponent, DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent,
        TitleComponent, TooltipComponent, VisualMapComponent} from 'echarts/components';
import {CanvasRenderer} from 'echarts/renderers';

echarts.use([LineChart, MapChart, AriaComponent, DataZoomComponent, GridComponent,
             LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent,
             VisualMapComponent, CanvasRenderer]);
window.echarts = echarts;
