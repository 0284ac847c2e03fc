package io.roomlink.internal;

import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards native log lines to SLF4J under the logger {@code io.roomlink.native}. Lines are
 * queued and written by one daemon thread, so a slow appender never stalls a native loop; if
 * the queue is full, lines are dropped and counted rather than blocking.
 */
public final class NativeLogBridge {
    public static final String LOGGER_NAME = "io.roomlink.native";
    private static final Logger NATIVE = LoggerFactory.getLogger(LOGGER_NAME);
    private static final int CAPACITY = 8192;

    private static final BlockingQueue<Line> LINES = new ArrayBlockingQueue<>(CAPACITY);
    private static final AtomicLong DROPPED = new AtomicLong();
    private static final NativeApi.LogCallback CALLBACK = new Sink();
    private static boolean installed;

    private NativeLogBridge() {
    }

    private record Line(int level, String message) {
    }

    /** Installs the bridge once per process. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        Native.setCallbackThreadInitializer(CALLBACK, new CallbackThreadInitializer(true, false, "roomlink-loop"));
        Thread writer = new Thread(NativeLogBridge::writeLoop, "roomlink-native-log");
        writer.setDaemon(true);
        writer.start();
        NativeApi.rl_set_log_callback(CALLBACK, minLevel());
    }

    private static int minLevel() {
        if (NATIVE.isTraceEnabled()) {
            return NativeApi.LOG_TRACE;
        }
        if (NATIVE.isDebugEnabled()) {
            return NativeApi.LOG_DEBUG;
        }
        if (NATIVE.isInfoEnabled()) {
            return NativeApi.LOG_INFO;
        }
        if (NATIVE.isWarnEnabled()) {
            return NativeApi.LOG_WARN;
        }
        return NATIVE.isErrorEnabled() ? NativeApi.LOG_ERROR : NativeApi.LOG_OFF;
    }

    private static void writeLoop() {
        while (true) {
            Line line;
            try {
                line = LINES.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                write(line);
                long dropped = DROPPED.getAndSet(0);
                if (dropped > 0) {
                    NATIVE.warn("{} native log lines were dropped: the log queue was full", dropped);
                }
            } catch (Throwable t) {
                // An appender failure must not end log forwarding.
            }
        }
    }

    private static void write(Line line) {
        switch (line.level) {
            case NativeApi.LOG_TRACE -> NATIVE.trace(line.message);
            case NativeApi.LOG_DEBUG -> NATIVE.debug(line.message);
            case NativeApi.LOG_INFO -> NATIVE.info(line.message);
            case NativeApi.LOG_WARN -> NATIVE.warn(line.message);
            default -> NATIVE.error(line.message);
        }
    }

    private static final class Sink implements NativeApi.LogCallback {
        @Override
        public void invoke(int level, Pointer message) {
            try {
                if (!LINES.offer(new Line(level, Utf8.fromC(message)))) {
                    DROPPED.incrementAndGet();
                }
            } catch (Throwable t) {
                DROPPED.incrementAndGet();
            }
        }
    }
}
