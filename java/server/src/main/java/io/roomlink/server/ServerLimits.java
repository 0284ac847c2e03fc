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
 */
public record ServerLimits(int maxConnections, int maxConnectionsPerIp, Duration handshakeTimeout,
                           int maxPreAuthPings, int writeBufferHighWaterMark, long maxPendingWriteBytes,
                           int maxMembersPerChannel, int maxChannels, int joinRatePerIp,
                           int joinBurstPerIp, int maxPendingBinds, int maxPendingBindsPerSource,
                           int connectionRatePerIp, int connectionBurstPerIp) {
    /** The defaults. */
    public static final ServerLimits DEFAULTS = new ServerLimits(0, 1024, Duration.ofSeconds(3), 10, 4 << 20,
            16L << 20, 1000, 100_000, 100, 1000, 65_536, 8, 200, 2000);

    /** {@link #maxConnections}, or the cap derived from the open-files limit when it is 0. */
    public int effectiveMaxConnections() {
        return maxConnections > 0 ? maxConnections : FdLimit.derivedConnectionCap(FdLimit.softLimit());
    }

    ServerLimits withMaxConnections(int v) {
        return new ServerLimits(v, maxConnectionsPerIp, handshakeTimeout, maxPreAuthPings, writeBufferHighWaterMark,
                maxPendingWriteBytes, maxMembersPerChannel, maxChannels, joinRatePerIp, joinBurstPerIp,
                maxPendingBinds, maxPendingBindsPerSource, connectionRatePerIp, connectionBurstPerIp);
    }

    ServerLimits withMaxConnectionsPerIp(int v) {
        return new ServerLimits(maxConnections, v, handshakeTimeout, maxPreAuthPings, writeBufferHighWaterMark,
                maxPendingWriteBytes, maxMembersPerChannel, maxChannels, joinRatePerIp, joinBurstPerIp,
                maxPendingBinds, maxPendingBindsPerSource, connectionRatePerIp, connectionBurstPerIp);
    }

    ServerLimits withHandshakeTimeout(Duration v) {
        return new ServerLimits(maxConnections, maxConnectionsPerIp, v, maxPreAuthPings, writeBufferHighWaterMark,
                maxPendingWriteBytes, maxMembersPerChannel, maxChannels, joinRatePerIp, joinBurstPerIp,
                maxPendingBinds, maxPendingBindsPerSource, connectionRatePerIp, connectionBurstPerIp);
    }

    ServerLimits withMaxPreAuthPings(int v) {
        return new ServerLimits(maxConnections, maxConnectionsPerIp, handshakeTimeout, v, writeBufferHighWaterMark,
                maxPendingWriteBytes, maxMembersPerChannel, maxChannels, joinRatePerIp, joinBurstPerIp,
                maxPendingBinds, maxPendingBindsPerSource, connectionRatePerIp, connectionBurstPerIp);
    }

    ServerLimits withWriteBuffer(int highWaterMark, long maxPending) {
        return new ServerLimits(maxConnections, maxConnectionsPerIp, handshakeTimeout, maxPreAuthPings, highWaterMark,
                maxPending, maxMembersPerChannel, maxChannels, joinRatePerIp, joinBurstPerIp,
                maxPendingBinds, maxPendingBindsPerSource, connectionRatePerIp, connectionBurstPerIp);
    }

    ServerLimits withMaxMembersPerChannel(int v) {
        return new ServerLimits(maxConnections, maxConnectionsPerIp, handshakeTimeout, maxPreAuthPings,
                writeBufferHighWaterMark, maxPendingWriteBytes, v, maxChannels, joinRatePerIp, joinBurstPerIp,
                maxPendingBinds, maxPendingBindsPerSource, connectionRatePerIp, connectionBurstPerIp);
    }

    ServerLimits withMaxChannels(int v) {
        return new ServerLimits(maxConnections, maxConnectionsPerIp, handshakeTimeout, maxPreAuthPings,
                writeBufferHighWaterMark, maxPendingWriteBytes, maxMembersPerChannel, v, joinRatePerIp, joinBurstPerIp,
                maxPendingBinds, maxPendingBindsPerSource, connectionRatePerIp, connectionBurstPerIp);
    }

    ServerLimits withJoinRatePerIp(int rate, int burst) {
        return new ServerLimits(maxConnections, maxConnectionsPerIp, handshakeTimeout, maxPreAuthPings,
                writeBufferHighWaterMark, maxPendingWriteBytes, maxMembersPerChannel, maxChannels, rate, burst,
                maxPendingBinds, maxPendingBindsPerSource, connectionRatePerIp, connectionBurstPerIp);
    }

    ServerLimits withPendingBinds(int max, int perSource) {
        return new ServerLimits(maxConnections, maxConnectionsPerIp, handshakeTimeout, maxPreAuthPings,
                writeBufferHighWaterMark, maxPendingWriteBytes, maxMembersPerChannel, maxChannels, joinRatePerIp,
                joinBurstPerIp, max, perSource, connectionRatePerIp, connectionBurstPerIp);
    }

    ServerLimits withConnectionRatePerIp(int rate, int burst) {
        return new ServerLimits(maxConnections, maxConnectionsPerIp, handshakeTimeout, maxPreAuthPings,
                writeBufferHighWaterMark, maxPendingWriteBytes, maxMembersPerChannel, maxChannels, joinRatePerIp,
                joinBurstPerIp, maxPendingBinds, maxPendingBindsPerSource, rate, burst);
    }
}
