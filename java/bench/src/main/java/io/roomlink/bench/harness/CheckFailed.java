package io.roomlink.bench.harness;

/** A scenario's validity check failed: its numbers cannot be trusted and it is reported FAILED. */
public final class CheckFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckFailed(String message) {
        super(message);
    }

    /** Throws unless {@code condition} holds. */
    public static void check(boolean condition, String what) {
        if (!condition) {
            throw new CheckFailed(what);
        }
    }
}
