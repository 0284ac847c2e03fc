package io.roomlink.bench;

/** A scenario's validity check failed: its numbers cannot be trusted and it is reported FAILED. */
final class CheckFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CheckFailed(String message) {
        super(message);
    }

    /** Throws unless {@code condition} holds. */
    static void check(boolean condition, String what) {
        if (!condition) {
            throw new CheckFailed(what);
        }
    }
}
