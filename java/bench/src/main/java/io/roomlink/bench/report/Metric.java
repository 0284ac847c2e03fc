package io.roomlink.bench.report;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * One row of the results: a distribution (p50, p95, p99, max over n samples) and/or a headline
 * value, the goal it is held against, whether the goal was met (null = reported, no goal), and
 * the status of the scenario's validity checks.
 */
public final class Metric {
    final String scenario;
    final String name;
    final String unit;
    public int n;
    public Double p50;
    public Double p95;
    public Double p99;
    public Double max;
    /** The headline figure when the metric is not (only) a distribution, with its unit. */
    public String value;
    public String goal = "report";
    Boolean goalMet;
    public String status = "OK";
    public String notes = "";
    public final Map<String, Object> extra = new LinkedHashMap<>();

    public Metric(String scenario, String name, String unit) {
        this.scenario = scenario;
        this.name = name;
        this.unit = unit;
    }

    /** A distribution row from samples already in {@code unit}. */
    public static Metric of(String scenario, String name, String unit, Samples samples) {
        Metric m = new Metric(scenario, name, unit);
        m.n = samples.size();
        if (m.n > 0) {
            double[] s = samples.sorted();
            m.p50 = Samples.percentile(s, 50);
            m.p95 = Samples.percentile(s, 95);
            m.p99 = Samples.percentile(s, 99);
            m.max = s[s.length - 1];
            m.extra.put("min", s[0]);
            double sum = 0;
            for (double v : s) {
                sum += v;
            }
            m.extra.put("mean", sum / s.length);
        }
        return m;
    }

    /** A row with a headline value only. */
    public static Metric value(String scenario, String name, String unit, String value, int n) {
        Metric m = new Metric(scenario, name, unit);
        m.value = value;
        m.n = n;
        return m;
    }

    /** Sets the goal and evaluates it (only when there is something to judge: samples or a value). */
    public Metric goal(String text, Predicate<Metric> met) {
        this.goal = text;
        this.goalMet = (n > 0 || value != null) ? met.test(this) : null;
        return this;
    }

    /** A goal that is reported against but not judged here (the note says why). */
    public Metric goalText(String text) {
        this.goal = text;
        this.goalMet = null;
        return this;
    }

    public Metric note(String text) {
        notes = notes.isEmpty() ? text : notes + "; " + text;
        return this;
    }

    public Metric extra(String key, Object v) {
        extra.put(key, v);
        return this;
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scenario", scenario);
        m.put("name", name);
        m.put("unit", unit);
        m.put("n", n);
        m.put("p50", p50);
        m.put("p95", p95);
        m.put("p99", p99);
        m.put("max", max);
        m.put("value", value);
        m.put("goal", goal);
        m.put("goalMet", goalMet);
        m.put("status", status);
        m.put("notes", notes);
        m.put("extra", extra);
        return m;
    }
}
