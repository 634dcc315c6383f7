package dev.retain.eval.report;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.text.DecimalFormat;
import java.util.List;
import java.util.function.DoubleFunction;

/**
 * The report's charts, drawn with JFreeChart and rendered headless to PNG: heat maps (score
 * matrices, layer drift), grouped bars (forgetting per domain per run) and line charts
 * (continual-evaluation curves with the stage boundaries marked).
 */
final class Charts {

    static {
        // No display is needed or wanted: charts are rendered into images only.
        System.setProperty("java.awt.headless", "true");
    }

    /** Series colours (Tableau 10), so a domain or run keeps its colour across charts. */
    private static final Color[] PALETTE = {
        new Color(0x4E79A7), new Color(0xF28E2B), new Color(0xE15759), new Color(0x76B7B2),
        new Color(0x59A14F), new Color(0xEDC948), new Color(0xB07AA1), new Color(0xFF9DA7),
        new Color(0x9C755F), new Color(0xBAB0AC)
    };

    /** Viridis anchors, from worst (dark purple) to best (yellow). */
    private static final Color[] VIRIDIS = {
        new Color(0x440154), new Color(0x3B528B), new Color(0x21918C), new Color(0x5EC962),
        new Color(0xFDE725)
    };

    private static final Font CELL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

    private Charts() {}

    /** How the cells of a heat map are coloured. */
    enum Colour {
        /** Each column against its own range (score matrices: change within a domain). */
        PER_COLUMN,
        /** All cells against one log-scaled range (drift, spanning orders of magnitude). */
        GLOBAL_LOG
    }

    /**
     * A heat map with the value written in every cell.
     *
     * @param title the title
     * @param subtitle how to read the colours
     * @param rows the row labels, top to bottom
     * @param columns the column labels, left to right
     * @param values {@code values[row][column]}
     * @param colour how cells are coloured
     * @param higherIsBetter when true, high values are bright; else low values are
     * @param format formats a cell's value
     * @return the chart
     */
    static JFreeChart heatMap(String title, String subtitle, List<String> rows,
            List<String> columns, double[][] values, Colour colour, boolean higherIsBetter,
            DoubleFunction<String> format) {
        int n = rows.size() * columns.size();
        double[] xs = new double[n];
        double[] ys = new double[n];
        double[] zs = new double[n];
        XYBlockRenderer renderer = new XYBlockRenderer();
        int i = 0;
        for (int r = 0; r < rows.size(); r++) {
            for (int c = 0; c < columns.size(); c++) {
                double t = shade(values, r, c, colour, higherIsBetter);
                xs[i] = c;
                ys[i] = r;
                zs[i] = t;
                XYTextAnnotation a = new XYTextAnnotation(format.apply(values[r][c]), c, r);
                a.setFont(CELL_FONT);
                a.setPaint(t > 0.55 ? Color.BLACK : Color.WHITE);
                renderer.addAnnotation(a, Layer.FOREGROUND);
                i++;
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("cells", new double[][] {xs, ys, zs});
        renderer.setBlockWidth(1);
        renderer.setBlockHeight(1);
        renderer.setPaintScale(new Viridis());
        SymbolAxis x = new SymbolAxis(null, columns.toArray(String[]::new));
        x.setGridBandsVisible(false);
        x.setRange(-0.5, columns.size() - 0.5);
        if (columns.size() > 6) {
            x.setVerticalTickLabels(true);
        }
        SymbolAxis y = new SymbolAxis(null, rows.toArray(String[]::new));
        y.setGridBandsVisible(false);
        y.setRange(-0.5, rows.size() - 0.5);
        y.setInverted(true);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        chart.addSubtitle(new TextTitle(subtitle));
        return style(chart);
    }

    /** The cell's colour position in [0, 1], 1 = best (or, for drift, largest). */
    private static double shade(double[][] v, int r, int c, Colour colour, boolean higher) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        if (colour == Colour.PER_COLUMN) {
            for (double[] row : v) {
                lo = Math.min(lo, row[c]);
                hi = Math.max(hi, row[c]);
            }
        } else {
            for (double[] row : v) {
                for (double x : row) {
                    if (x > 0) {
                        lo = Math.min(lo, Math.log(x));
                        hi = Math.max(hi, Math.log(x));
                    }
                }
            }
        }
        double x = colour == Colour.PER_COLUMN ? v[r][c] : v[r][c] > 0 ? Math.log(v[r][c]) : lo;
        double t = hi > lo ? (x - lo) / (hi - lo) : 0.5;
        return higher ? t : 1 - t;
    }

    /** Maps [0, 1] through the viridis anchors. */
    private static final class Viridis implements PaintScale {
        @Override
        public double getLowerBound() {
            return 0;
        }

        @Override
        public double getUpperBound() {
            return 1;
        }

        @Override
        public java.awt.Paint getPaint(double value) {
            double t = Math.max(0, Math.min(1, value)) * (VIRIDIS.length - 1);
            int k = Math.min((int) t, VIRIDIS.length - 2);
            double f = t - k;
            Color a = VIRIDIS[k];
            Color b = VIRIDIS[k + 1];
            return new Color((int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
                    (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
                    (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
        }
    }

    /**
     * Grouped bars: one group per category (domain), one bar per series (run).
     *
     * @param title the title
     * @param subtitle what the values mean
     * @param valueLabel the value axis label
     * @param series the series names (runs)
     * @param categories the categories (domains)
     * @param values {@code values[series][category]}, NaN where there is no bar
     * @return the chart
     */
    static JFreeChart groupedBars(String title, String subtitle, String valueLabel,
            List<String> series, List<String> categories, double[][] values) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (int s = 0; s < series.size(); s++) {
            for (int c = 0; c < categories.size(); c++) {
                double v = values[s][c];
                data.addValue(Double.isNaN(v) ? null : v, series.get(s), categories.get(c));
            }
        }
        JFreeChart chart = ChartFactory.createBarChart(title, null, valueLabel, data);
        chart.addSubtitle(new TextTitle(subtitle));
        CategoryPlot plot = chart.getCategoryPlot();
        if (categories.size() > 6) {
            plot.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        }
        BarRenderer r = (BarRenderer) plot.getRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setItemMargin(0.05);
        r.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}",
                new DecimalFormat("0.###")));
        r.setDefaultItemLabelsVisible(true);
        for (int s = 0; s < series.size(); s++) {
            r.setSeriesPaint(s, PALETTE[s % PALETTE.length]);
        }
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.addRangeMarker(new ValueMarker(0, Color.DARK_GRAY, new BasicStroke(1f)));
        return style(chart);
    }

    /**
     * Continual-evaluation curves: one line per domain, the stage boundaries as dashed lines
     * labelled with the task that starts there, and the stability-gap windows shaded.
     *
     * @param title the title
     * @param valueLabel the y axis label
     * @param domains the domains (series), in training order
     * @param points {@code points[d]} = rows of {@code {step, value}} for domain d
     * @param boundaries the step each stage starts at
     * @param stageTasks the task of each stage
     * @param windows the stability-gap windows as {@code {start, end}} steps
     * @param logScale whether the y axis is logarithmic (when the values span a factor of 4 or
     *     more; else it is linear)
     * @return the chart
     */
    static JFreeChart curves(String title, String valueLabel, List<String> domains,
            List<List<double[]>> points, List<Long> boundaries, List<String> stageTasks,
            List<long[]> windows, boolean logScale) {
        return curves(title, valueLabel, domains, points, boundaries, stageTasks, windows,
                logScale, List.of());
    }

    /**
     * As {@link #curves(String, String, List, List, List, List, List, boolean)}, with a task-free
     * run's consolidations as solid red lines (the detector's choice, against the true boundaries
     * dashed).
     *
     * @param title the title
     * @param valueLabel the y axis label
     * @param domains the domains (series)
     * @param points {@code points[d]} = rows of {@code {step, value}} for domain d
     * @param boundaries the step each stage starts at
     * @param stageTasks the task of each stage
     * @param windows the stability-gap windows
     * @param logScale whether the y axis may be logarithmic
     * @param consolidations the steps after which the run consolidated
     * @return the chart
     */
    static JFreeChart curves(String title, String valueLabel, List<String> domains,
            List<List<double[]>> points, List<Long> boundaries, List<String> stageTasks,
            List<long[]> windows, boolean logScale, List<Long> consolidations) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (int d = 0; d < domains.size(); d++) {
            XYSeries s = new XYSeries(domains.get(d), true, true);
            for (double[] p : points.get(d)) {
                s.add(p[0], p[1]);
            }
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, "training step", valueLabel,
                data);
        XYPlot plot = chart.getXYPlot();
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (List<double[]> pts : points) {
            for (double[] p : pts) {
                lo = Math.min(lo, p[1]);
                hi = Math.max(hi, p[1]);
            }
        }
        if (logScale && lo > 0 && hi / lo >= 4) {
            // Ticks at powers of two (16, 32, 64, ...): whole numbers a reader can compare.
            LogAxis y = new LogAxis(valueLabel + " (log scale)");
            y.setBase(2);
            y.setTickUnit(new NumberTickUnit(1));
            y.setNumberFormatOverride(new DecimalFormat("0"));
            y.setMinorTickCount(4);
            y.setMinorTickMarksVisible(true);
            plot.setRangeAxis(y);
        } else {
            ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        }
        ((NumberAxis) plot.getDomainAxis()).setAutoRangeIncludesZero(true);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int d = 0; d < domains.size(); d++) {
            r.setSeriesPaint(d, PALETTE[d % PALETTE.length]);
            r.setSeriesStroke(d, new BasicStroke(2f));
            r.setSeriesShape(d, new java.awt.geom.Ellipse2D.Double(-2.5, -2.5, 5, 5));
        }
        plot.setRenderer(r);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (long[] w : windows) {
            IntervalMarker m = new IntervalMarker(w[0], w[1], new Color(255, 170, 0, 40));
            plot.addDomainMarker(m, Layer.BACKGROUND);
        }
        BasicStroke dashed = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                10f, new float[] {6f, 4f}, 0f);
        for (int k = 1; k < boundaries.size() && k < stageTasks.size(); k++) {
            ValueMarker m = new ValueMarker(boundaries.get(k), Color.DARK_GRAY, dashed);
            m.setLabel(stageTasks.get(k));
            m.setLabelFont(CELL_FONT);
            m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
            plot.addDomainMarker(m, Layer.FOREGROUND);
        }
        for (long c : consolidations) {
            plot.addDomainMarker(new ValueMarker(c, new Color(200, 30, 30), new BasicStroke(1.5f)),
                    Layer.FOREGROUND);
        }
        return style(chart);
    }

    private static JFreeChart style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        return chart;
    }

    /**
     * Renders a chart to PNG bytes.
     *
     * @param chart the chart
     * @param width pixels
     * @param height pixels
     * @return the PNG
     */
    static byte[] png(JFreeChart chart, int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        try {
            ChartUtils.writeChartAsPNG(out, chart, width, height);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
