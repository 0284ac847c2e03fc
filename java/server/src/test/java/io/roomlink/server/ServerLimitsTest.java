package io.roomlink.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import io.netty.util.internal.logging.Slf4JLoggerFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The pieces of the server limits that need no network: parsing, buckets, back-off, options. */
class ServerLimitsTest {
    private static final String LIMITS = String.join("\n",
            "Limit                     Soft Limit           Hard Limit           Units     ",
            "Max cpu time              unlimited            unlimited            seconds   ",
            "Max open files            400                  1048576              files     ",
            "Max locked memory         8388608              8388608              bytes     ");

    @Test
    void theSoftOpenFilesLimitIsReadAndTheReserveKept() {
        assertEquals(OptionalLong.of(400), FdLimit.parseSoftLimit(LIMITS));
        assertEquals(400 - FdLimit.RESERVE, FdLimit.derivedConnectionCap(OptionalLong.of(400)));
        assertEquals(1, FdLimit.derivedConnectionCap(OptionalLong.of(100)));
        assertEquals(FdLimit.FALLBACK_CAP, FdLimit.derivedConnectionCap(OptionalLong.empty()));
        assertEquals(OptionalLong.empty(), FdLimit.parseSoftLimit(LIMITS.replace("400 ", "unlimited ")));
        assertEquals(OptionalLong.empty(), FdLimit.parseSoftLimit("garbage"));
        assertTrue(FdLimit.softLimit().isPresent(), "this is Linux: /proc/self/limits is readable");
    }

    @Test
    void theJoinRateBucketAllowsABurstThenTheRate() throws Exception {
        AddressRateLimiter rate = new AddressRateLimiter(10, 10);
        InetAddress ip = InetAddress.getByName("192.0.2.1");
        InetAddress other = InetAddress.getByName("192.0.2.2");
        long t = 1_000_000_000L;
        for (int i = 0; i < 10; i++) {
            assertTrue(rate.tryAcquire(ip, t), "burst " + i);
        }
        assertFalse(rate.tryAcquire(ip, t));
        assertTrue(rate.tryAcquire(other, t), "another address has its own bucket");
        assertFalse(rate.tryAcquire(ip, t + 50_000_000L), "half a token after 50 ms");
        assertTrue(rate.tryAcquire(ip, t + 100_000_000L), "one token after 100 ms");
        assertFalse(rate.tryAcquire(ip, t + 100_000_000L));
        assertTrue(rate.tryAcquire(ip, t + 10_000_000_000L));
    }

    @Test
    void theAddressTableIsBounded() throws Exception {
        AddressRateLimiter rate = new AddressRateLimiter(1, 1);
        byte[] a = new byte[4];
        for (int i = 0; i < AddressRateLimiter.MAX_ADDRESSES + 1000; i++) {
            a[0] = 10;
            a[1] = (byte) (i >> 16);
            a[2] = (byte) (i >> 8);
            a[3] = (byte) i;
            rate.tryAcquire(InetAddress.getByAddress(a), 0);
        }
        assertEquals(AddressRateLimiter.MAX_ADDRESSES, rate.size());
    }

    @Test
    void aFailedAcceptPausesAcceptingForAGrowingDelayAndIsCounted() throws Exception {
        ServerStats stats = new ServerStats();
        AcceptGuard guard = new AcceptGuard(stats, null);
        EmbeddedChannel ch = new EmbeddedChannel(guard);
        ch.pipeline().fireExceptionCaught(new IOException("accept(..) failed: Too many open files"));
        assertFalse(ch.config().isAutoRead(), "paused");
        assertEquals(1, stats.acceptErrors());
        assertEquals(2 * AcceptGuard.MIN_PAUSE_MILLIS, guard.nextPauseMillis());
        ch.pipeline().fireExceptionCaught(new IOException("again while paused"));
        assertEquals(2, stats.acceptErrors());
        assertEquals(2 * AcceptGuard.MIN_PAUSE_MILLIS, guard.nextPauseMillis(), "one pause at a time");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!ch.config().isAutoRead() && System.nanoTime() < deadline) {
            ch.runPendingTasks();
            ch.runScheduledPendingTasks();
            Thread.onSpinWait();
        }
        assertTrue(ch.config().isAutoRead(), "accepting again after the pause");
        ch.pipeline().fireChannelRead("a child");
        assertEquals("a child", ch.readInbound());
        assertEquals(AcceptGuard.MIN_PAUSE_MILLIS, guard.nextPauseMillis(), "an accept resets the delay");
        assertTrue(ch.isOpen());
        ch.finishAndReleaseAll();
    }

    @Test
    void nettyLogsThroughSlf4jInsteadOfJavaUtilLogging() {
        InternalLoggerFactory before = InternalLoggerFactory.getDefaultFactory();
        try {
            InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE); // what Netty picks without a binding
            NettyLogging.install();
            assertInstanceOf(Slf4JLoggerFactory.class, InternalLoggerFactory.getDefaultFactory());
        } finally {
            InternalLoggerFactory.setDefaultFactory(before);
        }
    }

    @Test
    void everyLimitHasADefaultAndIsValidated() {
        ServerLimits d = RoomServer.builder().options().limits();
        assertEquals(ServerLimits.DEFAULTS, d);
        assertEquals(Duration.ofSeconds(3), d.handshakeTimeout());
        assertEquals(10, d.maxPreAuthPings());
        assertEquals(1 << 20, d.maxMessageBytesPerSecond());
        assertEquals(2 << 20, d.replayBufferBytes());
        assertTrue(d.effectiveMaxConnections() > 0);
        RoomServer.Builder b = RoomServer.builder();
        assertThrows(IllegalArgumentException.class, () -> b.maxConnections(-1));
        assertThrows(IllegalArgumentException.class, () -> b.maxConnectionsPerIp(0));
        assertThrows(IllegalArgumentException.class, () -> b.handshakeTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> b.maxPreAuthPings(-1));
        assertThrows(IllegalArgumentException.class, () -> b.writeBufferLimits(100, 1000));
        assertThrows(IllegalArgumentException.class, () -> b.writeBufferLimits(1 << 20, 1 << 19));
        assertThrows(IllegalArgumentException.class, () -> b.maxMembersPerChannel(0));
        assertThrows(IllegalArgumentException.class, () -> b.maxChannels(0));
        assertThrows(IllegalArgumentException.class, () -> b.joinRatePerIp(0, 1));
        assertThrows(IllegalArgumentException.class, () -> b.joinRatePerIp(10, 9));
        assertThrows(IllegalArgumentException.class, () -> b.connectionRatePerIp(0, 1));
        assertThrows(IllegalArgumentException.class, () -> b.connectionRatePerIp(10, 9));
        assertThrows(IllegalArgumentException.class, () -> b.pendingBinds(0, 1));
        assertThrows(IllegalArgumentException.class, () -> b.pendingBinds(1, 0));
        assertThrows(IllegalArgumentException.class, () -> b.maxMessageBytesPerSecond(16383));
        assertThrows(IllegalArgumentException.class, () -> b.replayBufferBytes(65535));
        ServerLimits set = RoomServer.builder().maxConnections(5).maxConnectionsPerIp(2)
                .handshakeTimeout(Duration.ofMillis(500)).maxPreAuthPings(3).writeBufferLimits(65536, 131072)
                .maxMembersPerChannel(7).maxChannels(8).joinRatePerIp(9, 10).pendingBinds(11, 12).connectionRatePerIp(13, 14)
                .maxMessageBytesPerSecond(20000).replayBufferBytes(70000).options().limits();
        assertEquals(new ServerLimits(5, 2, Duration.ofMillis(500), 3, 65536, 131072, 7, 8, 9, 10, 11, 12, 13, 14, 20000, 70000), set);
        assertEquals(set, RoomServer.builder().maxConnections(5).maxConnectionsPerIp(2)
                .handshakeTimeout(Duration.ofMillis(500)).maxPreAuthPings(3).writeBufferLimits(65536, 131072)
                .maxMembersPerChannel(7).maxChannels(8).joinRatePerIp(9, 10).pendingBinds(11, 12).connectionRatePerIp(13, 14)
                .maxMessageBytesPerSecond(20000).replayBufferBytes(70000).options().toBuilder().options().limits());
        assertEquals(5, set.effectiveMaxConnections());
    }

    @Test
    void everyLimitHasAFlag() throws Exception {
        RoomServerMain.Options o = RoomServerMain.parse(new String[] {"--signal-port", "0", "--media-port", "0",
            "--bind", "127.0.0.1", "--max-connections", "5", "--max-connections-per-ip", "2", "--handshake-timeout-ms", "500",
            "--max-pre-auth-pings", "3", "--write-high-water-bytes", "65536", "--max-pending-write-bytes", "131072",
            "--max-members-per-channel", "7", "--max-channels", "8", "--join-rate-per-ip", "9", "--join-burst-per-ip", "10",
            "--max-pending-binds", "11", "--max-pending-binds-per-source", "12",
            "--connection-rate-per-ip", "13", "--connection-burst-per-ip", "14",
            "--max-message-bytes-per-second", "20000", "--replay-buffer-bytes", "70000"});
        assertEquals(new ServerLimits(5, 2, Duration.ofMillis(500), 3, 65536, 131072, 7, 8, 9, 10, 11, 12, 13, 14, 20000, 70000),
                o.toBuilder().options().limits());
        assertThrows(RoomServerMain.UsageException.class, () -> RoomServerMain.parse(new String[] {
            "--signal-port", "0", "--media-port", "0", "--bind", "127.0.0.1", "--max-channels", "0"}));
        assertThrows(RoomServerMain.UsageException.class, () -> RoomServerMain.parse(new String[] {
            "--signal-port", "0", "--media-port", "0", "--bind", "127.0.0.1", "--join-rate-per-ip", "x"}));
        for (String flag : LimitFlags.NAMES) {
            assertTrue(RoomServerMain.USAGE.contains(flag), flag + " in --help");
        }
    }
}
