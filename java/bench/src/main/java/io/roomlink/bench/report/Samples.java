package io.roomlink.bench.report;

import java.util.Arrays;

/** A growable list of measurements in one unit, with nearest-rank percentiles. Not thread-safe. */
public final class Samples {
    private double[] values = new double[64];
    private int size;

    public void add(double value) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = value;
    }

    void addAll(Samples other) {
        for (int i = 0; i < other.size; i++) {
            add(other.values[i]);
        }
    }

    public int size() {
        return size;
    }

    public double[] sorted() {
        double[] s = Arrays.copyOf(values, size);
        Arrays.sort(s);
        return s;
    }

    /** Nearest-rank percentile of sorted values (p in 0..100); NaN when empty. */
    public static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }

    public double min() {
        double[] s = sorted();
        return s.length == 0 ? Double.NaN : s[0];
    }
}
