package io.roomlink.server;

/**
 * The per-connection limits a {@link SignalHandler} enforces (see the matching
 * {@link RoomServer.Builder} options): the handshake deadline, the PINGs allowed before
 * JOIN/RESUME, the output that may wait for a client that does not read, and the JOIN/RESUME
 * rate per address ({@code null}: unlimited).
 */
record SignalLimits(long handshakeTimeoutNanos, int maxPreAuthPings, long maxPendingWriteBytes,
                    AddressRateLimiter joinRate) {
    /** No limits but the handshake deadline (unit tests that drive a handler by hand). */
    static SignalLimits handshakeOnly(long handshakeTimeoutNanos) {
        return new SignalLimits(handshakeTimeoutNanos, Integer.MAX_VALUE, Long.MAX_VALUE, null);
    }
}
