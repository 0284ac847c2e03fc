package io.roomlink.server;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The standalone server's flags for {@link ServerLimits}, one per limit, parsed by
 * {@link RoomServerMain} and applied to its builder.
 */
final class LimitFlags {
    static final List<String> USAGE = List.of(
            "  --max-connections N        signaling connections at once (default: open-files limit - " + FdLimit.RESERVE + ")",
            "  --max-connections-per-ip N connections at once from one address (default 1024)",
            "  --handshake-timeout-ms N   time a connection has to send JOIN/RESUME (default 3000)",
            "  --max-pre-auth-pings N     PINGs answered before JOIN/RESUME (default 10)",
            "  --write-high-water-bytes N output backlog at which a client stops being read (default 4194304)",
            "  --max-pending-write-bytes N output backlog at which a client is disconnected (default 16777216)",
            "  --max-members-per-channel N sessions per channel (default 1000)",
            "  --max-channels N           channels on the server (default 100000)",
            "  --join-rate-per-ip N       token checks (JOIN/RESUME/RENEW_TOKEN) per second from one address, sustained (default 100)",
            "  --join-burst-per-ip N      token checks one address may make at once (default 1000)",
            "  --connection-rate-per-ip N new connections per second from one address, sustained (default 200)",
            "  --connection-burst-per-ip N new connections one address may open at once (default 2000)",
            "  --max-pending-binds N      media BINDs kept ahead of their JOIN, oldest evicted (default 65536)",
            "  --max-pending-binds-per-source N  of those, from one address (default 8)",
            "  --max-message-bytes-per-second N  MESSAGE data per session per second, sustained (default 1048576)",
            "  --replay-buffer-bytes N    unacknowledged receiver-stream bytes kept per session (default 2097152)");

    static final List<String> NAMES = List.of("--max-connections", "--max-connections-per-ip",
            "--handshake-timeout-ms", "--max-pre-auth-pings", "--write-high-water-bytes",
            "--max-pending-write-bytes", "--max-members-per-channel", "--max-channels", "--join-rate-per-ip",
            "--join-burst-per-ip", "--connection-rate-per-ip", "--connection-burst-per-ip", "--max-pending-binds", "--max-pending-binds-per-source",
            "--max-message-bytes-per-second", "--replay-buffer-bytes");

    /** Flag → value, as given. */
    private final Map<String, Long> values = new LinkedHashMap<>();

    /** Records {@code --name value}; the value must be a whole number in the flag's range. */
    void put(String name, String value) throws RoomServerMain.UsageException {
        long min = switch (name) {
            case "--max-connections", "--max-pre-auth-pings" -> 0;
            default -> 1;
        };
        long max = name.equals("--max-pending-write-bytes") ? Long.MAX_VALUE : Integer.MAX_VALUE;
        long v;
        try {
            v = Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new RoomServerMain.UsageException(name + " must be a number " + min + ".." + max + ", got '" + value + "'");
        }
        if (v < min || v > max) {
            throw new RoomServerMain.UsageException(name + " must be a number " + min + ".." + max + ", got '" + value + "'");
        }
        values.put(name, v);
    }

    /** Applies the flags given; the builder validates what depends on two of them. */
    void applyTo(RoomServer.Builder b) {
        ServerLimits d = b.options().limits();
        values.forEach((name, v) -> {
            int i = (int) Math.min(Integer.MAX_VALUE, v);
            switch (name) {
                case "--max-connections" -> b.maxConnections(i);
                case "--max-connections-per-ip" -> b.maxConnectionsPerIp(i);
                case "--handshake-timeout-ms" -> b.handshakeTimeout(Duration.ofMillis(v));
                case "--max-pre-auth-pings" -> b.maxPreAuthPings(i);
                case "--max-members-per-channel" -> b.maxMembersPerChannel(i);
                case "--max-channels" -> b.maxChannels(i);
                case "--max-message-bytes-per-second" -> b.maxMessageBytesPerSecond(i);
                case "--replay-buffer-bytes" -> b.replayBufferBytes(i);
                default -> { } // the pairs, below
            }
        });
        if (values.containsKey("--join-rate-per-ip") || values.containsKey("--join-burst-per-ip")) {
            int rate = (int) (long) values.getOrDefault("--join-rate-per-ip", (long) d.joinRatePerIp());
            int burst = (int) (long) values.getOrDefault("--join-burst-per-ip", (long) Math.max(rate, d.joinBurstPerIp()));
            b.joinRatePerIp(rate, burst);
        }
        if (values.containsKey("--connection-rate-per-ip") || values.containsKey("--connection-burst-per-ip")) {
            int rate = (int) (long) values.getOrDefault("--connection-rate-per-ip", (long) d.connectionRatePerIp());
            int burst = (int) (long) values.getOrDefault("--connection-burst-per-ip",
                    (long) Math.max(rate, d.connectionBurstPerIp()));
            b.connectionRatePerIp(rate, burst);
        }
        if (values.containsKey("--max-pending-binds") || values.containsKey("--max-pending-binds-per-source")) {
            b.pendingBinds((int) (long) values.getOrDefault("--max-pending-binds", (long) d.maxPendingBinds()),
                    (int) (long) values.getOrDefault("--max-pending-binds-per-source", (long) d.maxPendingBindsPerSource()));
        }
        if (values.containsKey("--write-high-water-bytes") || values.containsKey("--max-pending-write-bytes")) {
            b.writeBufferLimits((int) Math.min(Integer.MAX_VALUE,
                            values.getOrDefault("--write-high-water-bytes", (long) d.writeBufferHighWaterMark())),
                    values.getOrDefault("--max-pending-write-bytes", d.maxPendingWriteBytes()));
        }
    }

    boolean isEmpty() {
        return values.isEmpty();
    }
}
