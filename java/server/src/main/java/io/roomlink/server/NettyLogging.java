package io.roomlink.server;

import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import io.netty.util.internal.logging.Slf4JLoggerFactory;

/**
 * Routes Netty's own logging through SLF4J even when the application has no SLF4J binding.
 *
 * <p>Why: without a binding Netty falls back to java.util.logging, whose formatter loads the
 * time-zone database ({@code tzdb.dat}) the first time it logs. When the process is out of file
 * descriptors that load fails with a {@code NoClassDefFoundError}, thrown inside Netty's
 * exception handling, and it killed the accept thread for good: nobody could join until a
 * restart. Through SLF4J, a process without a binding logs nothing and opens no file, and one
 * with a binding logs where the application decided.
 */
final class NettyLogging {
    private NettyLogging() {
    }

    /** Replaces Netty's java.util.logging fallback by SLF4J; keeps any other choice the application made. */
    @SuppressWarnings("deprecation") // INSTANCE does not probe for a binding, which is the point
    static void install() {
        if (InternalLoggerFactory.getDefaultFactory() instanceof JdkLoggerFactory) {
            InternalLoggerFactory.setDefaultFactory(Slf4JLoggerFactory.INSTANCE);
        }
    }
}
