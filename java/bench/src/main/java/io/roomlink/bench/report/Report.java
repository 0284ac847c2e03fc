package io.roomlink.bench.report;

import java.util.List;
import java.util.Locale;

/** The results table (Markdown, so that docs/PERFORMANCE.md can take it as it is). */
public final class Report {
    private Report() {
    }

    public static String table(List<Metric> metrics) {
        StringBuilder sb = new StringBuilder();
        sb.append("| metric | p50 | p95 | p99 | max | n | value | goal | goal met | status |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Metric m : metrics) {
            sb.append("| ").append(m.name)
                    .append(" | ").append(num(m.p50, m.unit))
                    .append(" | ").append(num(m.p95, m.unit))
                    .append(" | ").append(num(m.p99, m.unit))
                    .append(" | ").append(num(m.max, m.unit))
                    .append(" | ").append(m.n)
                    .append(" | ").append(m.value == null ? "" : m.value)
                    .append(" | ").append(m.goal)
                    .append(" | ").append(m.goalMet == null ? "–" : m.goalMet ? "yes" : "**NO**")
                    .append(" | ").append("OK".equals(m.status) ? "OK" : "**" + m.status + "**")
                    .append(" |\n");
        }
        return sb.toString();
    }

    public static String notes(List<Metric> metrics) {
        StringBuilder sb = new StringBuilder();
        for (Metric m : metrics) {
            if (!m.notes.isEmpty()) {
                sb.append("- ").append(m.name).append(": ").append(m.notes).append('\n');
            }
        }
        return sb.toString();
    }

    static String num(Double v, String unit) {
        if (v == null || v.isNaN()) {
            return "";
        }
        return fmt(v) + " " + unit;
    }

    public static String fmt(double v) {
        double a = Math.abs(v);
        if (a >= 100 || v == Math.rint(v) && a >= 10) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
