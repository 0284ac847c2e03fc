package io.roomlink.server;

import java.time.Duration;

/**
 * The limits a {@link RoomServer} holds hostile or broken clients to, as
 * {@link RoomServer.Builder} set them (see the builder method of each for what it means; the
 * builder validates, so every value here is valid). Immutable; part of {@link RoomServerOptions}.
 *
 * @param maxConnections signaling connections open at once; 0 = derived from the open-files limit
 *     (its soft value minus {@value FdLimit#RESERVE} kept for the server's own files)
 * @param maxConnectionsPerIp signaling connections open at once from one address
 * @param handshakeTimeout time a connection has to send JOIN/RESUME
 * @param maxPreAuthPings PINGs answered before JOIN/RESUME
 * @param writeBufferHighWaterMark output bytes waiting for a client after which it stops being read from
 * @param maxPendingWriteBytes output bytes waiting for a client after which it is disconnected
 * @param maxMembersPerChannel sessions per channel (pending, connected and in grace)
 * @param maxChannels channels on the server
 * @param joinRatePerIp JOIN/RESUME attempts per second from one address, sustained
 * @param joinBurstPerIp JOIN/RESUME attempts one address may make at once (the bucket's size)
 * @param maxPendingBinds media BINDs kept for keys no JOIN/RESUME has named yet (oldest evicted)
 * @param maxPendingBindsPerSource of those, from one IP address
 * @param connectionRatePerIp new signaling connections per second from one address, sustained
 * @param connectionBurstPerIp new signaling connections one address may open at once (the bucket's size)
 * @param maxMessageBytesPerSecond MESSAGE data bytes per second of one session, sustained (a token
 *     bucket holding two seconds' worth); over it the connection gets ERROR(31022) and is closed
 * @param replayBufferBytes encoded receiver-stream frames one session keeps until acknowledged; an
 *     overflow ends the session (SESSION_END(31023), or as on expiry while in grace)
 */
public record ServerLimits(int maxConnections, int maxConnectionsPerIp, Duration handshakeTimeout,
                           int maxPreAuthPings, int writeBufferHighWaterMark, long maxPendingWriteBytes,
                           int maxMembersPerChannel, int maxChannels, int joinRatePerIp,
                           int joinBurstPerIp, int maxPendingBinds, int maxPendingBindsPerSource,
                           int connectionRatePerIp, int connectionBurstPerIp, int maxMessageBytesPerSecond,
                           int replayBufferBytes) {
    /** The defaults. */
    public static final ServerLimits DEFAULTS = new ServerLimits(0, 1024, Duration.ofSeconds(3), 10, 4 << 20,
            16L << 20, 1000, 100_000, 100, 1000, 65_536, 8, 200, 2000, 1 << 20, 2 << 20);

    /** {@link #maxConnections}, or the cap derived from the open-files limit when it is 0. */
    public int effectiveMaxConnections() {
        return maxConnections > 0 ? maxConnections : FdLimit.derivedConnectionCap(FdLimit.softLimit());
    }

    ServerLimits withMaxConnections(int v) {
        return with(e -> e.maxConnections = v);
    }

    ServerLimits withMaxConnectionsPerIp(int v) {
        return with(e -> e.maxConnectionsPerIp = v);
    }

    ServerLimits withHandshakeTimeout(Duration v) {
        return with(e -> e.handshakeTimeout = v);
    }

    ServerLimits withMaxPreAuthPings(int v) {
        return with(e -> e.maxPreAuthPings = v);
    }

    ServerLimits withWriteBuffer(int highWaterMark, long maxPending) {
        return with(e -> {
            e.writeBufferHighWaterMark = highWaterMark;
            e.maxPendingWriteBytes = maxPending;
        });
    }

    ServerLimits withMaxMembersPerChannel(int v) {
        return with(e -> e.maxMembersPerChannel = v);
    }

    ServerLimits withMaxChannels(int v) {
        return with(e -> e.maxChannels = v);
    }

    ServerLimits withJoinRatePerIp(int rate, int burst) {
        return with(e -> {
            e.joinRatePerIp = rate;
            e.joinBurstPerIp = burst;
        });
    }

    ServerLimits withPendingBinds(int max, int perSource) {
        return with(e -> {
            e.maxPendingBinds = max;
            e.maxPendingBindsPerSource = perSource;
        });
    }

    ServerLimits withConnectionRatePerIp(int rate, int burst) {
        return with(e -> {
            e.connectionRatePerIp = rate;
            e.connectionBurstPerIp = burst;
        });
    }

    ServerLimits withMaxMessageBytesPerSecond(int v) {
        return with(e -> e.maxMessageBytesPerSecond = v);
    }

    ServerLimits withReplayBufferBytes(int v) {
        return with(e -> e.replayBufferBytes = v);
    }

    /** A copy with {@code change} applied: the one place that lists every field. */
    private ServerLimits with(java.util.function.Consumer<Edit> change) {
        Edit e = new Edit(this);
        change.accept(e);
        return new ServerLimits(e.maxConnections, e.maxConnectionsPerIp, e.handshakeTimeout, e.maxPreAuthPings,
                e.writeBufferHighWaterMark, e.maxPendingWriteBytes, e.maxMembersPerChannel, e.maxChannels,
                e.joinRatePerIp, e.joinBurstPerIp, e.maxPendingBinds, e.maxPendingBindsPerSource,
                e.connectionRatePerIp, e.connectionBurstPerIp, e.maxMessageBytesPerSecond, e.replayBufferBytes);
    }

    /** The fields of a copy being made, set one by one. */
    private static final class Edit {
        int maxConnections;
        int maxConnectionsPerIp;
        Duration handshakeTimeout;
        int maxPreAuthPings;
        int writeBufferHighWaterMark;
        long maxPendingWriteBytes;
        int maxMembersPerChannel;
        int maxChannels;
        int joinRatePerIp;
        int joinBurstPerIp;
        int maxPendingBinds;
        int maxPendingBindsPerSource;
        int connectionRatePerIp;
        int connectionBurstPerIp;
        int maxMessageBytesPerSecond;
        int replayBufferBytes;

        Edit(ServerLimits l) {
            maxConnections = l.maxConnections;
            maxConnectionsPerIp = l.maxConnectionsPerIp;
            handshakeTimeout = l.handshakeTimeout;
            maxPreAuthPings = l.maxPreAuthPings;
            writeBufferHighWaterMark = l.writeBufferHighWaterMark;
            maxPendingWriteBytes = l.maxPendingWriteBytes;
            maxMembersPerChannel = l.maxMembersPerChannel;
            maxChannels = l.maxChannels;
            joinRatePerIp = l.joinRatePerIp;
            joinBurstPerIp = l.joinBurstPerIp;
            maxPendingBinds = l.maxPendingBinds;
            maxPendingBindsPerSource = l.maxPendingBindsPerSource;
            connectionRatePerIp = l.connectionRatePerIp;
            connectionBurstPerIp = l.connectionBurstPerIp;
            maxMessageBytesPerSecond = l.maxMessageBytesPerSecond;
            replayBufferBytes = l.replayBufferBytes;
        }
    }
}
