package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.CheckFailed;
import io.roomlink.bench.report.Metric;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One measured scenario. {@link #run} first makes sure that what it measures really happened
 * (states reached, sessions joined) and throws {@link CheckFailed} otherwise; its rows are then
 * reported FAILED, never as numbers.
 */
public abstract class Scenario {
    public final List<Metric> rows = new ArrayList<>();
    /** Settings used (engine knobs, sizes), recorded in results.json. */
    public final Map<String, Object> config = new LinkedHashMap<>();

    private final String id;
    private final String title;

    /** {@code id} is the one {@link Scenarios} lists it under; {@code title} heads its rows. */
    protected Scenario(String id, String title) {
        this.id = id;
        this.title = title;
    }

    public final String id() {
        return id;
    }

    public final String title() {
        return title;
    }

    public abstract void run(Bench bench) throws Exception;

    Metric add(Metric m) {
        rows.add(m);
        return m;
    }

    static void check(boolean condition, String what) {
        CheckFailed.check(condition, what);
    }
}
